"""Read a project's pytest-repro settings from outside pytest, for the command lines.

`repro-run`, `repro-check`, `repro-hook`, `repro-export`, `repro-pin` and `repro-vary`
run where pytest does not: in pre-commit, in CI, by hand.  They find the project the
way pytest does (`find_project`: from the working folder up, the first of pytest's own
files that holds a pytest section; its folder is the rootdir every relative setting is
resolved against), and read each setting through the plugin's one table
(`options.SETTINGS`: the same defaults, types, parsers and precedence as under pytest),
so a bad value's one-line error is the same for every door, only its prefix naming
where it came from (`pyproject.toml: ini repro_seed`, `--seed`).
"""

from __future__ import annotations

import configparser
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.errors import ConfigError, Problem
from pytest_repro.settings.table import BY_NAME, INI_NAMES, Setting, value_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pytest depends on the backport
    import tomli as tomllib

# pytest's configuration files, in its order of precedence within one folder.
CONFIG_FILES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)


@dataclass(frozen=True)
class Project:
    """A project as pytest would see it from a folder: its rootdir, its ini file and the ini options."""

    root: Path
    inifile: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def shown_inifile(self) -> str:
        """The ini file as errors name it (its name, or a hint where there is none)."""
        return self.inifile.name if self.inifile is not None else "the project's ini file (none found)"


def find_project(start: Path | None = None) -> Project:
    """Find the ini file pytest would use when run in `start` (default: the working folder).

    As pytest does: the first folder from `start` upwards that holds one of
    `CONFIG_FILES` with a pytest section (`pytest.ini` and `pytest.toml` count even
    without one); else the nearest `pyproject.toml`'s folder, with no options; else
    `start` itself.
    """
    start = (start or Path.cwd()).absolute()
    first_pyproject: Path | None = None
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            path = folder / name
            if not path.is_file():
                continue
            if name == "pyproject.toml" and first_pyproject is None:
                first_pyproject = path
            options = _read_options(path)
            if options is not None:
                return Project(folder, path, options)
    if first_pyproject is not None:
        return Project(first_pyproject.parent, first_pyproject, {})
    return Project(start)


def read_project_settings(project: Project, **given: tuple[Any, str] | None) -> Any:
    """The project's `ReproSettings`, resolved by the plugin's own table and `settings.resolve_settings`.

    `given` are this command line's values by setting name, each as (raw value, the flag
    that gave it): `seed=("7", "--seed")`; they win over the ini's.  A bad value is one
    `ConfigError` line naming where it came from (exit 2).
    """
    import pytest

    from pytest_repro.settings.resolved import resolve_settings

    check_setting_names(project)
    try:
        return resolve_settings(ProjectSources(project, given), project.root)
    except pytest.UsageError as error:
        raise ConfigError([Problem(project.shown_inifile, "", str(error))]) from None


NO_TRAINING = (
    'no training configured; set repro_train = "module:function" (a function that trains into a '
    'folder) or repro_command = "python train.py" with repro_outputs (a script)'
)


def configured_training(project: Project, **given: tuple[Any, str] | None) -> Any:
    """The project's `ReproSettings` when they configure a training (a function or a command), else `ConfigError`.

    `given` as for `read_project_settings`.  A command whose settings are incomplete
    (no `repro_outputs`, a bad placeholder) is refused here, with pytest's own line.
    """
    settings = read_project_settings(project, **given)
    if settings.entry is None:
        raise ConfigError([Problem(project.shown_inifile, "", NO_TRAINING)])
    if settings.command is not None:
        problems = settings.command.problems()
        if problems:
            raise ConfigError([Problem(project.shown_inifile, "", problems[0])])
    return settings


def python_path(project: Project) -> tuple[Path, ...]:
    """pytest's `pythonpath` ini setting, resolved against the rootdir: a function imports from there too."""
    value = project.options.get("pythonpath", [])
    entries = value if isinstance(value, list) else str(value).split()
    return tuple(project.root / str(entry) for entry in entries)


def configured_lineage(option: Path | None) -> tuple[Path, Path]:
    """The lineage a command line verifies and the project root it is confined to.

    `option` (`--lineage`, relative to the working folder) over the ini's `repro_lineage`
    (relative to the rootdir, default `artifacts/lineage.json`).  The lineage is given
    as the user would type it from here, so that messages name it that way; the root is
    the rootdir when the lineage lies in it, else the folder above the lineage's own.
    """
    from pytest_repro.core.paths import shown_path
    from pytest_repro.lineage.verify import inferred_project_root

    project = find_project()
    lineage = option
    if lineage is None:
        lineage = Path(shown_path(read_project_settings(project).lineage_path))
    inside = lineage.absolute().resolve().is_relative_to(project.root.resolve())
    return lineage, project.root if inside else inferred_project_root(lineage)


def configured_pins(project: Project) -> Path | None:
    """The pin registry `repro_pins` names (relative to the rootdir), or None: a registry beside each dataset."""
    check_setting_names(project)
    value = value_of(ProjectSources(project), "pins")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else project.root / path


def check_setting_names(project: Project) -> None:
    """Refuse a misspelt `repro_*` key, with the nearest name, as `pytest` itself would."""
    from pytest_repro.settings.preflight import unknown_setting_hint

    for key in sorted(project.options):
        hint = unknown_setting_hint(str(key), INI_NAMES)
        if hint is not None:
            raise ConfigError([Problem(project.shown_inifile, "", hint)])


class ProjectSources:
    """The raw values of a command line's settings: its own flags over the project's ini file.

    An ini value is converted as pytest converts it for the setting's declared type (a
    TOML list or a shell-quoted line for `args`, one item a line for `linelist`); an
    unset one is the table's default.
    """

    def __init__(self, project: Project, given: Mapping[str, tuple[Any, str] | None] | None = None):
        unknown = set(given or ()) - set(BY_NAME)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        self.project = project
        self._given = {name: value for name, value in (given or {}).items() if value is not None}

    def given(self, setting: Setting) -> tuple[Any, str] | None:
        value = self._given.get(setting.name)
        return None if value is None or value[0] is None else value

    def ini_value(self, setting: Setting) -> tuple[Any, str] | None:
        where = f"{self.project.shown_inifile}: {setting.ini_where()}"
        if setting.ini not in self.project.options:
            return setting.default, where
        return _typed(self.project.options[setting.ini], setting.ini_type), where


def _typed(value: Any, kind: str | None) -> Any:
    if kind in ("args", "linelist"):
        if isinstance(value, list | tuple):
            return [str(item) for item in value]
        text = str(value)
        if kind == "args":
            return shlex.split(text)
        return [line.strip() for line in text.splitlines() if line.strip()]
    return value if isinstance(value, str) else str(value)


def _read_options(path: Path) -> dict[str, Any] | None:
    """The pytest options `path` holds, {} for a pytest-only file without any, None when it has no section."""
    if path.suffix == ".toml":
        data = _toml(path)
        if path.name == "pyproject.toml":
            tool = data.get("tool", {}).get("pytest") if isinstance(data.get("tool"), dict) else None
            if not isinstance(tool, dict):
                return None
            ini = tool.get("ini_options")
            native = {key: value for key, value in tool.items() if key != "ini_options"}
            return dict(ini) if isinstance(ini, dict) else native
        table = data.get("pytest")
        return dict(table) if isinstance(table, dict) else {}
    section = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    options = _ini_section(path, section)
    if options is None and path.name in ("pytest.ini", ".pytest.ini"):
        return {}
    return options


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _ini_section(path: Path, section: str) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return dict(parser[section]) if parser.has_section(section) else None
