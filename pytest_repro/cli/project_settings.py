"""Read a project's pytest-repro ini settings from outside pytest, for the command lines.

`repro-hook` and `repro-vary` run where pytest does not: in pre-commit, or by hand.
They read the same ini settings pytest would, from the first of pytest's own files
that holds a pytest section: `pytest.ini`, `pyproject.toml` ([tool.pytest.ini_options]),
`tox.ini` ([pytest]), `setup.cfg` ([tool:pytest]).
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pytest depends on the backport
    import tomli as tomllib


def ini_options(folder: Path) -> dict[str, Any]:
    """Return the pytest ini options of the project in `folder` (empty when it has none)."""
    for name, read in (
        ("pytest.ini", lambda path: _ini_section(path, "pytest")),
        ("pyproject.toml", _pyproject),
        ("tox.ini", lambda path: _ini_section(path, "pytest")),
        ("setup.cfg", lambda path: _ini_section(path, "tool:pytest")),
    ):
        path = folder / name
        if path.is_file():
            found = read(path)
            if found is not None:
                return found
    return {}


def _pyproject(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    options = data.get("tool", {}).get("pytest", {}).get("ini_options")
    return options if isinstance(options, dict) else None


def _ini_section(path: Path, section: str) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return dict(parser[section]) if parser.has_section(section) else None
