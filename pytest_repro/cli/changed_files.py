"""Which of a commit's changed files concern the project's training: what the pre-commit hooks fire on.

pre-commit decides from file names alone whether a hook runs, and a hook repository
cannot know a project's names: `data/raw/customers.parquet`, `params.yaml`,
`models/churn.pkl`.  So the hooks take every changed file (`repro-hook lineage
--changed FILE...`) and decide here, from the project's own settings and lineage,
whether one of them is something the lineage records or the settings name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Configs a project names by convention (config.yaml, experiments/config-small.yml), besides repro_config;
# not .pre-commit-config.yaml, nor every YAML file under a folder that happens to be called config/.
CONVENTIONAL_CONFIG = re.compile(r"(^|/)config[^/]*\.ya?ml$")


def config_files(changed: Iterable[str], settings: Any) -> list[str]:
    """The changed files that are a training config: the one `repro_config` names, or named like one."""
    config = settings.config_path.resolve()
    return [name for name in changed if _resolved(name) == config or CONVENTIONAL_CONFIG.search(_posix(name))]


def lineage_files(changed: Iterable[str], settings: Any, lineage: Path, pins: Path | None) -> list[str]:
    """The changed files a lineage verification concerns (see `_watched`)."""
    watched, globs = _watched(settings, lineage, pins)
    root = settings.project.root.resolve() if settings.project is not None else Path.cwd().resolve()
    found = []
    for name in changed:
        path = _resolved(name)
        relative = _relative(path, root)
        if path in watched or (relative is not None and _matches(relative, globs)):
            found.append(name)
        elif path.name == _pins_file_name() and pins is None:
            found.append(name)  # a registry beside a dataset, wherever it is
    return found


def _watched(settings: Any, lineage: Path, pins: Path | None) -> tuple[set[Path], tuple[str, ...]]:
    """The files the settings and the lineage name, and the globs of the outputs.

    The lineage and its envelope, every input and output the lineage records, the
    config, the pin registry (`repro_pins`), and a command's outputs and metrics by
    their globs, so that a project with no lineage yet is told to train.
    """
    from pytest_repro.lineage.signing import envelope_path

    watched = {lineage.resolve(), envelope_path(lineage).resolve(), settings.config_path.resolve()}
    if pins is not None:
        watched.add(pins.resolve())
    watched.update(_recorded_files(lineage))
    globs: tuple[str, ...] = ()
    command = settings.command
    if command is not None:
        from pytest_repro.running.command_training import OUTPUT_FOLDER

        globs = (*command.outputs, *([command.metrics] if command.metrics else []))
        if "{output_dir}" in command.command:
            globs += (f"{OUTPUT_FOLDER}/**/*",)
    return watched, globs


def _recorded_files(lineage: Path) -> set[Path]:
    """Every file the lineage records, resolved; none when it is missing or unreadable (verifying says why)."""
    from pytest_repro.errors import ReproError
    from pytest_repro.lineage.manifest import entries, read_lineage
    from pytest_repro.lineage.verify import lineage_root

    try:
        data = read_lineage(lineage)
        root = lineage_root(data, lineage)
        return {(root / item.path).resolve() for item in entries(data, lineage)}
    except (ReproError, OSError, ValueError):
        return set()


def _matches(relative: str, globs: tuple[str, ...]) -> bool:
    from pytest_repro.core.paths import matches_any

    return matches_any(relative, globs)


def _pins_file_name() -> str:
    from pytest_repro.lineage.pins import PINS_FILE

    return PINS_FILE


def _resolved(name: str) -> Path:
    return Path(name).absolute().resolve()


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _posix(name: str) -> str:
    return Path(name).as_posix()
