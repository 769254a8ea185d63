"""The dependency direction of DESIGN.md holds, and the check that guards it can fail.

The contracts live in pyproject.toml and `make test` runs them with import-linter. Here they
run on the checkout (all kept), then on copies of the code with one forbidden import added
(each must break the contract it crosses and name the import).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
LAYERS = "Layers: bot.cli -> bot.app -> handlers -> bot.slack -> bot.core"
CORE = "bot.core knows nothing of Slack"
SANDBOX = "bot.sandbox stands alone"
TESTS = "Nothing outside the test suite imports it (bench/ and the product share bot.testkit)"
PACKAGES = ("bot", "handlers", "bench", "tests")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the packages in ``project`` (it puts the working folder first on the
    import path, so a copy is read rather than the installed checkout)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=project,
        capture_output=True,
        text=True,
    )


def test_the_code_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("bot/core/__init__.py", "slack_sdk", CORE),
        ("bot/core/__init__.py", "slack_bolt", CORE),
        ("bot/core/__init__.py", "bot.slack", CORE),
        ("bot/sandbox/__init__.py", "bot.core", SANDBOX),
        ("bot/sandbox/__init__.py", "handlers", SANDBOX),
        ("handlers/__init__.py", "bot.app", LAYERS),
        ("bot/slack/__init__.py", "handlers", LAYERS),
        ("bench/__init__.py", "tests", TESTS),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, forbidden, contract) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a", encoding="utf-8") as source:
        source.write(f"\nimport {forbidden}  # noqa: E402\n")

    result = lint_imports(tmp_path)

    importer = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in " ".join(result.stdout.split())
    assert f"{importer} -> {forbidden}" in result.stdout, result.stdout
