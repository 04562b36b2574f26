"""A run's isolation from the user's project: its copy, its environment, its write guard and the checks after it.

Every subprocess run (twins, probes, variations, `repro-vary`), function or command
training, goes through `IsolatedRun`:

1. `prepare` copies the project (`tree_copy`) beside the run's output folder, writes the
   write guard's settings and makes the run's own temporary folder;
2. `environment` is what the training's processes see: the copy as working directory and
   `PWD`, the user's own PYTHONPATH (entries in the project mapped into the copy, nothing
   added but the guard's `sitecustomize` folder), pytest's interpreter first on PATH, a
   `TMPDIR` of its own, git held inside the copy, MLflow and W&B writing into the run;
3. `finish` removes the temporary folder and fails the run, in one line naming the path,
   when the guard refused a write or a shared file's original changed all the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_repro.core.entry_points import ContractError
from pytest_repro.running.tree_copy import SHARE_MIN_BYTES, ProjectCopy, barrier, copy_tree, never_copied

SITE_FOLDER = Path(__file__).resolve().parent / "run_site"
GUARD_VARIABLE = "REPRO_GUARD"  # read by run_site/_pytest_repro_guard.py
RECORD_VARIABLE = "REPRO_RECORD"  # read by run_site/_pytest_repro_recorder.py
DIR_ORDER_VARIABLE = "REPRO_DIR_ORDER"  # read by run_site/_pytest_repro_dir_order.py (`dir_order`)
# The PYTHONPATH the user gave pytest (the launcher sets it, since a worker's own differs).
USER_PYTHONPATH_VARIABLE = "REPRO_USER_PYTHONPATH"
# What pytest itself writes in the project while the runs train: not the runs' doing.
PYTEST_CACHES = frozenset({"__pycache__", ".pytest_cache", ".hypothesis"})
ISOLATION_SUFFIX = ".isolation"  # a run's temporary folder, recorder logs and guard settings
# Variables that point git at a repository: a run's git must find only the copy's.
GIT_REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
)
MLFLOW_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
# Where an MLflow store keeps absolute artifact locations: a file store's meta.yaml files,
# a SQL store's SQLite database.
MLFLOW_STORE_FILES = ("meta.yaml", ".db")


@dataclass(frozen=True)
class ProjectIsolation:
    """What the settings say of isolation: the user's project, files always copied, where tracking goes."""

    root: Path
    always_copy: tuple[str, ...] = ()
    tracking: str = "run"  # "run": MLflow and W&B write into the run; "user": left as configured
    # Other folders no run may write: the user's project, when a variation trains a moved copy of it.
    protected: tuple[Path, ...] = ()

    def moved_to(self, root: Path) -> ProjectIsolation:
        """The same isolation for a run that copies `root` (a moved copy of this project) instead."""
        return replace(self, root=root, protected=(*self.protected, self.root))

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "always_copy": list(self.always_copy),
            "tracking": self.tracking,
            "protected": [str(path) for path in self.protected],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProjectIsolation:
        return cls(
            Path(data["root"]),
            tuple(data.get("always_copy", ())),
            data.get("tracking", "run"),
            tuple(Path(path) for path in data.get("protected", ())),
        )


class IsolatedRun:
    """One run's copy of the project (or none: a function training) and what its processes may see and write.

    A command trains in a copy, as a hand run would in a fresh clone.  A function trains
    where pytest runs, reading the project in place (so the twins share one working
    directory, and the `cwd` and `path` variations vary it), and writes into its output
    folder: the guard refuses any write into the project, and tracking goes to the run.
    """

    def __init__(self, isolation: ProjectIsolation, copy: ProjectCopy | None, folder: Path, name: str):
        self.isolation = isolation
        self.copy = copy
        self.folder = folder
        # Beside the run's output folder (a function's must stay empty), all in one folder.
        own = folder / f"{name}{ISOLATION_SUFFIX}"
        self.tmp = own / "tmp"
        self.guard_log = own / "guard.log"
        self.guard_settings = own / "guard.json"
        self.record = own / "record"

    @classmethod
    def prepare(
        cls,
        isolation: ProjectIsolation,
        copy_root: Path,
        *,
        exclude: tuple[str, ...] = (),
        share_min_bytes: int = SHARE_MIN_BYTES,
    ) -> IsolatedRun:
        """Copy the project to `copy_root` and set up the guard and temporary folder beside it."""
        copy = copy_tree(
            isolation.root,
            copy_root,
            exclude=exclude,
            always_copy=isolation.always_copy,
            share_min_bytes=share_min_bytes,
            note=MLFLOW_STORE_FILES,
        )
        for relative in copy.noted:  # the copy's own store must not point into the user's
            _move_mlflow_paths(copy.root / relative, str(copy.source), str(copy.root))
        return cls(isolation, copy, copy_root.parent, copy_root.name)._guarded()

    @classmethod
    def in_place(cls, isolation: ProjectIsolation, output_dir: Path) -> IsolatedRun:
        """A function training's isolation: no copy, the guard and temporary folder beside `output_dir`."""
        return cls(isolation, None, output_dir.parent, output_dir.name)._guarded()

    def _guarded(self) -> IsolatedRun:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.record.mkdir(exist_ok=True)
        protected = [self.isolation.root, *self.isolation.protected]
        settings = {
            "protected": [str(path.resolve()) for path in protected],
            "allowed": [str(self.folder)],
            "shared": self.copy.shared_inodes() if self.copy else [],
            "log": str(self.guard_log),
            "copy": str(self.copy.root) if self.copy else None,
        }
        self.guard_settings.write_text(json.dumps(settings, sort_keys=True), encoding="utf-8")
        # A command's processes need not be Python (a shell, DVC's stages): the project is
        # also compared before and after.  A function's worker is guarded itself.
        self.before = scan_project(self.isolation.root, self.folder) if self.copy and self.copy.git else None
        self.tracked = tracked_files(self.isolation.root) if self.before is not None else frozenset()
        return self

    def in_copy(self, path: str | Path) -> Path:
        """`path` as the copy holds it, when it lies in the project; unchanged otherwise."""
        path = Path(path)
        if self.copy is None:
            return path
        try:
            relative = path.resolve().relative_to(self.copy.source)
        except (ValueError, OSError, RuntimeError):
            return path
        return self.copy.root / relative

    def environment(self, base: Mapping[str, str], cwd: Path) -> dict[str, str]:
        """The environment of the training's processes, from the worker's own `base`."""
        env = dict(base)
        user_path = env.pop(USER_PYTHONPATH_VARIABLE, None)
        if user_path is None or self.copy is None:
            # An in-process run's is the user's; a function's processes import what its worker imports.
            user_path = env.get("PYTHONPATH", "")
        for name, value in list(env.items()):  # PWD, a data folder... : the copy's, never the user's
            mapped = self._mapped_value(value)
            if mapped is not None:
                env[name] = mapped
        entries = [self._mapped_value(entry) or entry for entry in user_path.split(os.pathsep) if entry]
        env["PYTHONPATH"] = os.pathsep.join([str(SITE_FOLDER), *entries])
        env[GUARD_VARIABLE] = str(self.guard_settings)
        env[RECORD_VARIABLE] = str(self.record)
        env["PWD"] = str(cwd)
        env.pop("OLDPWD", None)
        for name in ("TMPDIR", "TMP", "TEMP"):
            env[name] = str(self.tmp)
        interpreter = str(Path(sys.executable).parent)
        rest = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != interpreter]
        env["PATH"] = os.pathsep.join([interpreter, *rest])
        if self.copy is not None:
            for name in GIT_REPOSITORY_VARIABLES:
                env.pop(name, None)
            env["GIT_CEILING_DIRECTORIES"] = str(self.copy.root.parent)
        if self.isolation.tracking == "run":
            env.update(self._tracking(env))
        return env

    def _mapped_value(self, value: str) -> str | None:
        """A variable's value that names a path in the project, as the copy's path (when the copy has it)."""
        if self.copy is None:
            return None
        root = str(self.copy.source)
        if value != root and not value.startswith(root + os.sep):
            return None
        mapped = self.copy.root / Path(value).relative_to(root)
        return str(mapped) if mapped.exists() else None

    def _tracking(self, env: Mapping[str, str]) -> dict[str, str]:
        """MLflow and Weights & Biases settings that keep a run's tracking inside the run."""
        changes = {
            "WANDB_MODE": "offline",
            "WANDB_DIR": str(self.folder),
            "WANDB_DATA_DIR": str(self.folder / "wandb-data"),
        }
        for name in MLFLOW_URI_VARIABLES:
            value = env.get(name)
            if not value and self.copy is not None:
                continue  # MLflow's default store is relative: in the copy
            moved = self._store_in_copy(value) if value and self.copy is not None else None
            if moved is None:  # a server, or a store outside the project: the run gets its own
                changes[name] = (self.folder / "mlruns").as_uri()
                changes["MLFLOW_ALLOW_FILE_STORE"] = "true"
            else:
                changes[name] = moved
        return changes

    def _store_in_copy(self, uri: str) -> str | None:
        """An MLflow store URI as the copy's store: unchanged when relative, None when not in the project."""
        prefix = next((p for p in ("file://", "file:", "sqlite:///") if uri.startswith(p)), "")
        if not prefix and "://" in uri:
            return None  # a tracking server or a database server
        path = Path(uri[len(prefix) :])
        if not path.is_absolute() or path.is_relative_to(self.copy.root):
            return uri
        if not path.is_relative_to(self.copy.source):
            return None
        return prefix + str(self.copy.root / path.relative_to(self.copy.source))

    def finish(self) -> None:
        """Remove the run's temporary folder; fail when the run wrote, or tried to write, to the user's files."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        refused = _first_line(self.guard_log)
        if refused:
            raise ContractError(refused.removeprefix("pytest-repro: "))
        changed = self.copy.changed() if self.copy is not None else []
        if changed:
            raise ContractError(
                f"the run changed {changed[0]} in your project, a large git-ignored file the run shares "
                "rather than copies: list it in repro_outputs if the training writes it, or in "
                "repro_copy to copy it"
            )
        moved = self.before is not None and scan_difference(
            self.before, scan_project(self.isolation.root, self.folder), self.tracked
        )
        if moved:
            raise ContractError(
                f"the project changed during the run: {moved} (a process the write guard does not see, "
                "not Python or started with -I, wrote there; write by a path relative to the working "
                "directory), or it was edited meanwhile"
            )


def scan_project(root: Path, run_folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry of the project with its size, modification time and mode: what a write changes.

    Left out: the folder holding the run, when pytest's temporary folder lies in the
    project, and what pytest and its plugins write there while the runs train
    (`__pycache__`, `.pytest_cache`, `.hypothesis`, `.coverage*`).  A stat per entry, no reading: cheap beside a training.
    """
    root = root.resolve()
    holder = barrier(root, run_folder.resolve())
    found: dict[str, tuple[int, int, int]] = {}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if (
                entry.name in PYTEST_CACHES
                or entry.name.startswith(".coverage")
                or (holder is not None and entry.path == str(holder))
            ):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            is_folder = entry.is_dir(follow_symlinks=False)
            size = 0 if is_folder else status.st_size
            found[os.path.relpath(entry.path, root)] = (
                size,
                0 if is_folder else status.st_mtime_ns,
                status.st_mode,
            )
            if is_folder:
                stack.append(Path(entry.path))
    return found


def scan_difference(
    before: Mapping[str, tuple[int, int, int]],
    after: Mapping[str, tuple[int, int, int]],
    tracked: frozenset[str],
) -> str:
    """The first of the user's git files (`.git` itself, or a tracked file) that changed between two scans.

    Untracked files are left out: what else writes into the project while pytest runs
    (the user's own tests, an editor, pytester's capture files) would otherwise fail a
    sound run.  '' when nothing changed.
    """
    for path in sorted(set(before) | set(after)):
        if not (path == ".git" or path.startswith(".git" + os.sep) or path in tracked):
            continue
        if path not in before:
            return f"{path} appeared"
        if path not in after:
            return f"{path} disappeared"
        if before[path] != after[path]:
            return f"{path} changed"
    return ""


def tracked_files(root: Path) -> frozenset[str]:
    """The files git tracks in the project, as paths relative to it."""
    from pytest_repro.running.tree_copy import git_output

    listing = git_output(root, "ls-files", "-z", "--cached")
    return frozenset(name for name in (listing or "").split("\0") if name)


def _move_mlflow_paths(path: Path, root: str, copy: str) -> None:
    """Point the absolute paths an MLflow store holds into the user's project at the copy instead.

    MLflow records each experiment's artifact location, each run's artifact URI and each
    model version's source as absolute paths: a run that logs to the copy's store would
    otherwise write its artifacts into the user's `mlruns`.
    """
    if path.name == "meta.yaml":
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return
        if root in text:
            path.write_text(text.replace(root + os.sep, copy + os.sep).replace(root + "\n", copy + "\n"))
        return
    _move_sqlite_paths(path, root, copy)


def _move_sqlite_paths(path: Path, root: str, copy: str) -> None:
    """Replace `root` by `copy` in every text column of an SQLite database (an MLflow SQL store)."""
    try:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\0":
                return
    except OSError:
        return
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(path)) as database, database:
            tables = [
                row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                for column in database.execute(f'PRAGMA table_info("{table}")').fetchall():
                    name, kind = column[1], str(column[2]).upper()
                    if "CHAR" in kind or "TEXT" in kind or "CLOB" in kind or not kind:
                        database.execute(
                            f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) WHERE "{name}" LIKE ?',
                            (root + os.sep, copy + os.sep, f"%{root}{os.sep}%"),
                        )
    except sqlite3.Error:
        return  # not a store we can read: the write guard still keeps the user's files unchanged


def _own(path: str, own_prefix: str | None, root: Path | None) -> bool:
    """Whether a recorded path is in the run's own folder, and not in the copy the run keeps there."""
    if own_prefix is None or not path.startswith(own_prefix):
        return False
    root_prefix = str(root) + os.sep if root is not None else None
    in_copy = root_prefix is not None and root_prefix.startswith(own_prefix) and path.startswith(root_prefix)
    return not in_copy


def _relative(text: str | None, root: Path | None) -> str | None:
    """A recorded path or `path:line` inside `root`, relative to it; anything else unchanged."""
    if text is None or root is None:
        return text
    if text == str(root):
        return "."
    prefix = str(root) + os.sep
    return text[len(prefix) :] if text.startswith(prefix) else text


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            return log.readline().strip()
    except OSError:
        return ""


def install_guard_here(run: IsolatedRun) -> None:
    """Install the write guard, the recorder and `dir_order`'s listings in this process (a function's worker), as sitecustomize would."""
    for name in ("_pytest_repro_guard", "_pytest_repro_recorder", "_pytest_repro_dir_order"):
        module = _site_module(name)
        module.install_from_environment()


def flush_recorder_here() -> None:
    """Write this process's recorder log now (a function's worker reads the run's logs before it exits)."""
    recorder = getattr(_site_module("_pytest_repro_recorder"), "_recorder", None)
    if recorder is not None:
        recorder.write()


def _site_module(name: str) -> Any:
    """A module of the run's site folder, loaded by its path (the folder is not on this process's sys.path)."""
    if name in sys.modules:
        return sys.modules[name]
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, SITE_FOLDER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def recorded_events(
    record: Path, root: Path | None = None, own: Path | None = None
) -> dict[str, list[dict[str, Any]]]:
    """What every process of a run recorded (see run_site/_pytest_repro_recorder.py), merged by kind.

    Each event keeps the call site, `order` and `value` of the process that saw it first
    (in pid order; an order counts on from the previous process's last) and the count
    summed over the processes; paths and sites inside `root` (the run's copy,
    or the project a function trains in) are shown relative to it, as the user knows
    them; reads of the run's `own` folder (its outputs, its temporary folder) are left out,
    as is a log that cannot be read.
    """
    own_prefix = str(own.resolve()) + os.sep if own is not None else None
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    logs = sorted(record.glob("*.json"), key=lambda path: int(path.stem) if path.stem.isdigit() else 0)
    offset = 0
    for log in logs:
        try:
            events = json.loads(log.read_text(encoding="utf-8"))["events"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        orders = [item.get("order") or 0 for items in events.values() for item in items]
        for kind, items in events.items():
            found = merged.setdefault(kind, {})
            for item in items:
                if kind in ("open", "listdir") and _own(str(item["detail"]), own_prefix, root):
                    continue  # the run's own outputs and temporary files, not its inputs
                detail = _relative(item["detail"], root)
                item = {
                    **item,
                    "detail": detail,
                    "site": _relative(item["site"], root),
                    "order": offset + (item.get("order") or 0),
                }
                known = found.get(item["detail"])
                if known is None:
                    found[item["detail"]] = item
                else:
                    known["count"] += item["count"]
        offset += max(orders, default=-1) + 1
    return {kind: [found[detail] for detail in sorted(found)] for kind, found in sorted(merged.items())}


def inputs_read(
    events: Mapping[str, list[dict[str, Any]]], project: Path, tree: Path, leave_out: Collection[str] = ()
) -> dict[str, str]:
    """The project's files a run's processes read, by POSIX path relative to the project: the run's inputs.

    `events` are what `recorded_events` returns relative to `tree`, where the run trained
    (the project itself, or a copy of it).  A file counts when the user's project holds
    it too (a file the run made and read back is not an input), and not when it is in
    `leave_out` (the run's outputs, its lineage) or where no copy holds files (.git,
    `__pycache__`, a virtual environment): a run in a copy could never read those, so a
    lineage recorded in the project must not name them either.  Each path is `tree`'s
    file, whose bytes are those the run read.
    """
    found = {}
    for event in events.get("open", []):
        relative = str(event["detail"])
        if relative.startswith("/") or relative in leave_out or never_copied(relative):
            continue
        if (project / relative).is_file() and (tree / relative).is_file():
            found[relative] = str(tree / relative)
    return found
