"""Where the files that ship beside the code are: the seeds and the Slack app manifest.

``seeds/`` (model catalog, prompts, suggested prompts) and ``manifest.yml`` stay at the top of
the repository, where people edit them. pyproject.toml maps that folder onto the data package
``teammate_data``: a wheel carries them as ``teammate_data/seeds/`` and
``teammate_data/manifest.yml``, and an editable install maps the package onto the checkout. So
the import system finds them, installed or editable, and nothing counts parent folders.

``teammate_data`` is a namespace package (the folder it maps is the repository's top, which has
no ``__init__.py``), so its folder is read from its import spec rather than through
``importlib.resources.files()``: on Python 3.11 that refuses the package in an editable install
(setuptools adds a placeholder entry to a namespace package's path, which the 3.11 reader takes
for a missing folder).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DATA_PACKAGE = "teammate_data"


def _data_dir() -> Path:
    """The package's folder: the first part of its path that holds the manifest (the path of a
    namespace package can also name the editable placeholder, or a stray folder of that name)."""
    spec = importlib.util.find_spec(DATA_PACKAGE)
    parts = spec.submodule_search_locations if spec and spec.submodule_search_locations else []
    for folder in map(Path, parts):
        if (folder / "manifest.yml").is_file():
            return folder
    raise ModuleNotFoundError(
        f"the data package {DATA_PACKAGE} (seeds and manifest) is not installed: "
        "install Teammate with `pip install .` (or `make install` in a checkout)"
    )


DATA_DIR = _data_dir()
SEEDS_DIR = DATA_DIR / "seeds"
MANIFEST_PATH = DATA_DIR / "manifest.yml"
