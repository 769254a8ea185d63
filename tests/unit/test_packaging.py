"""A wheel of Teammate works on its own: the seeds and the manifest travel inside it.

The wheel is built with pip from a copy of the project, installed without dependencies into a
fresh virtualenv, and that virtualenv sees the project's dependencies through a path line in a
.pth file (a plain path line does not run that folder's own .pth files, so the editable install
stays out of sight). Then, from a folder outside the checkout, `teammate manifest` prints the
manifest and the catalog, prompts and suggested prompts load the way the app loads them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from bot.core.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "manifest.yml", "seeds", "bot", "handlers")

# Run by the installed interpreter: what the app reads at start, and where it came from.
LOAD_AS_THE_APP_DOES = """
import json
import bot
from bot.app import _suggested_prompts, load_catalog
from bot.core.knowledge.files import _files_in
from bot.core.prompts import Prompts
from bot.settings import Settings

settings = Settings()
print(json.dumps({
    "bot": bot.__file__,
    "seeds": str(settings.seeds_dir),
    "models": sorted(load_catalog(settings).models),
    "system_prompt": Prompts.load(settings.seeds_dir / "prompts").templates["system.md"],
    "suggested_prompts": _suggested_prompts(settings),
    "knowledge": [p.name for p in _files_in(settings.seeds_dir / "knowledge")],
}))
"""


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """The files a wheel is built from, copied so the build leaves the checkout untouched."""
    copy = tmp_path_factory.mktemp("project")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    return copy


@pytest.fixture(scope="module")
def wheel(project_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, project_copy)
    (built,) = out.glob("teammate-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv holding only the wheel; the dependencies come from this one."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel)  # fmt: skip
    # Written after the install, so pip never sees the editable Teammate beside the dependencies.
    fresh_site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    Path(fresh_site.strip(), "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_wheel_ships_every_module_the_seeds_and_the_manifest(wheel, project_copy) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert packages == {"bot", "handlers", "teammate_data"}
    code = {
        path.relative_to(project_copy).as_posix()
        for package in ("bot", "handlers")
        for path in (project_copy / package).rglob("*")
        if path.is_file()
    }
    assert code - names == set(), "files of bot/ or handlers/ missing from the wheel"
    seeds = {
        "teammate_data/" + path.relative_to(project_copy).as_posix()
        for path in (project_copy / "seeds").rglob("*")
        if path.is_file()
    }
    assert seeds | {"teammate_data/manifest.yml"} <= names
    assert "teammate_data/README.md" not in names


def test_installed_wheel_prints_the_manifest_and_loads_its_seeds(installed, tmp_path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    printed = _run(installed / "bin" / "teammate", "manifest", cwd=outside)
    assert yaml.safe_load(printed) == yaml.safe_load((ROOT / "manifest.yml").read_text())

    loaded = json.loads(_run(installed / "bin" / "python", "-c", LOAD_AS_THE_APP_DOES, cwd=outside))
    assert Path(loaded["bot"]).is_relative_to(installed)
    assert Path(loaded["seeds"]).is_relative_to(installed)
    assert loaded["models"] == sorted(Catalog.load(ROOT / "seeds" / "models.yml").models)
    assert loaded["system_prompt"] == (ROOT / "seeds" / "prompts" / "system.md").read_text()
    suggested = yaml.safe_load((ROOT / "seeds" / "suggested_prompts.yml").read_text())
    assert loaded["suggested_prompts"] == suggested[:4]
    assert loaded["knowledge"] == sorted(
        p.name for p in (ROOT / "seeds" / "knowledge").glob("*.md")
    )


def _run(*command: object, cwd: Path | None = None) -> str:
    """Runs a command and returns its output. Teammate's own settings are already gone from the
    environment (tests/conftest.py); PYTHONPATH and friends go too, so nothing points back here."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{command[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout
