"""The folders and machine facts the variations are built from, and the moved copy of the project.

The `path` variation trains from a copy of what the training reads, kept in the same
places relative to the project, so that only the project's absolute location differs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_repro.core.core_count import available_cores
from pytest_repro.core.run_records import RunRequest
from pytest_repro.running.affinity import cpu_set
from pytest_repro.variations.kernels import Kernels
from pytest_repro.variations.locales import choose_locales, installed_locales
from pytest_repro.variations.specs import MovedProject, RunSpec


class Workspace:
    """The folders and machine facts the variations are built from, each found once, on first use."""

    def __init__(self, request: RunRequest, folder: Path, project_root: Path, cwd: Path):
        self.request = request
        self.folder = folder
        self.project_root = project_root.resolve()
        self.cwd = cwd
        self.cores = available_cores()
        self.cpus = cpu_set()  # which CPUs those are; None where there is no CPU affinity
        self.home = os.environ.get("HOME") or str(Path.home())
        self._locales: tuple[str, str | None] | None = None
        self._moved: MovedProject | None = None
        self._kernels: dict[tuple[tuple[str, str], ...], Kernels] = {}
        self._folders = 0  # empty folders made so far (each run's own)

    def kernels(self, changes: Mapping[str, str] | None = None) -> Kernels:
        """What a run's interpreter loads (BLAS kernels, numpy SIMD) with `changes` to its environment, read once."""
        key = tuple(sorted((changes or {}).items()))
        if key not in self._kernels:
            from pytest_repro.variations.kernels import probe
            from pytest_repro.variations.runs import run_environment

            self._kernels[key] = probe(run_environment(RunSpec(self.request, env=dict(key))))
        return self._kernels[key]

    def locales(self) -> tuple[str, str | None]:
        """Return (reference, varied) locale names among those installed; varied is None when none collates otherwise."""
        if self._locales is None:
            self._locales = choose_locales(installed_locales())
        return self._locales

    def clock_library(self) -> Path:
        """The `time` variation's shifted-clock library, built into this workspace on first use."""
        from pytest_repro.variations.clock import build_library

        return build_library(self.folder / "clock")

    def moved(self) -> MovedProject:
        """Copy the project once, on first use."""
        if self._moved is None:
            self._moved = move_project(
                self.request, self.project_root, self.cwd, self.folder / "moved" / self.project_root.name
            )
        return self._moved

    def moved_so_far(self) -> MovedProject | None:
        """The copy of the project if one was made (the `path` variation asked for it), else None."""
        return self._moved

    def empty_folder(self, name: str) -> Path:
        """Create and return a new, empty folder of the workspace, one per call (so one per run).

        A varied HOME or working directory shared by two runs would carry what the first
        wrote (a cache) into the second, and blame the wrong variation.
        """
        self._folders += 1
        path = self.folder / f"{name}-{self._folders}"
        path.mkdir(parents=True, exist_ok=False)
        return path

    def shown(self, path: Path) -> str:
        """`path` as the report shows it: relative to the project, or "the project folder" itself."""
        relative = inside(path.resolve(), self.project_root)
        if relative is None:
            return str(path)
        return "the project folder" if relative == Path() else relative.as_posix()


def move_project(request: RunRequest, project_root: Path, cwd: Path, destination: Path) -> MovedProject:
    """Copy what the training reads to `destination`, keeping every file's place relative to the others.

    Copied: the config file; every existing file the config names by a path relative to
    its folder (as a YAML string anywhere in it), wherever it lies, with the dataset pin
    registry beside it; and the entry module (its top-level package folder, or its single
    .py file) when it lives in the project or the working directory, or for a command
    training the whole project tree.  Files outside the project (a config and its data
    in another folder) are copied too, below the folder that holds all of them, so that
    relative paths between them still resolve.  Absolute paths in the config and other
    modules stay where they are.
    """
    from pytest_repro.lineage.pins import PINS_FILE  # imports yaml: only when a copy is made

    if destination.exists():
        shutil.rmtree(destination)
    config_path = request.config_path.resolve()
    files: list[Path] = [config_path] if config_path.is_file() else []
    for named in _named_files(config_path):
        files.append(named)
        registry = named.parent / PINS_FILE
        if registry.is_file():
            files.append(registry)
    module = None if request.command is not None else _entry_module_path(request.entry, project_root, cwd)
    anchor = Path(
        os.path.commonpath([project_root, *(f.parent for f in files), *([module] if module else [])])
    )
    root = destination / project_root.relative_to(anchor)
    copied: list[str] = []
    if request.command is not None:
        # A command training reads whatever its script reads: the whole tree moves.
        from pytest_repro.running.tree_copy import copy_tree

        root.parent.mkdir(parents=True, exist_ok=True)
        copy_tree(request.command.root, root, exclude=request.command.outputs)
        copied.append("the project tree")
    else:
        destination.mkdir(parents=True)
    for source in [*files, *([module] if module else [])]:
        _copy_into(destination, source, anchor, copied)
    code_moved = request.command is not None or module is not None
    return MovedProject(root, destination / config_path.relative_to(anchor), tuple(copied), code_moved)


def _copy_into(destination: Path, source: Path, anchor: Path, copied: list[str]) -> None:
    """Copy a file or folder to its place under `destination` (once), and note it in `copied`."""
    relative = source.resolve().relative_to(anchor)
    target = destination / relative
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        copied.append(f"{relative.as_posix()}/")
    else:
        shutil.copy2(source, target)
        copied.append(relative.as_posix())


def _named_files(config_path: Path) -> list[Path]:
    """The existing files that the config names by a path relative to its folder."""
    try:
        import yaml

        from pytest_repro.core.config_files import (
            read_config_bytes,  # a regular file only: a FIFO is refused, not read
        )

        data = yaml.safe_load(read_config_bytes(config_path).decode("utf-8-sig"))
    except Exception:
        return []
    found = []
    for value in _strings(data):
        if not value or len(value) > 4096 or "\n" in value or Path(value).is_absolute():
            continue
        try:  # a NUL byte (ValueError) or a link loop (RuntimeError before Python 3.13) names no file
            candidate = (config_path.parent / value).resolve()
            exists = candidate.is_file()
        except (OSError, RuntimeError, ValueError):
            continue
        if exists and candidate != config_path and candidate not in found:
            found.append(candidate)
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _entry_module_path(entry: str, project_root: Path, cwd: Path) -> Path | None:
    """The entry module's top-level package folder or single .py file, in the cwd or the project."""
    top = entry.partition(":")[0].split(".")[0]
    for folder in dict.fromkeys([cwd.resolve(), project_root]):
        package, module = folder / top, folder / f"{top}.py"
        if (package / "__init__.py").is_file():
            return package
        if module.is_file():
            return module
    return None


def inside(path: Path, root: Path) -> Path | None:
    """`path` relative to `root`, or None when it lies outside."""
    try:
        return path.relative_to(root)
    except ValueError:
        return None
