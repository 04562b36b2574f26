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

import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_repro.contract import ContractError
from pytest_repro.running.tree_copy import ProjectCopy, copy_tree

SITE_FOLDER = Path(__file__).resolve().parent / "run_site"
GUARD_VARIABLE = "REPRO_GUARD"  # read by run_site/sitecustomize.py
# The PYTHONPATH the user gave pytest (the launcher sets it, since a worker's own differs).
USER_PYTHONPATH_VARIABLE = "REPRO_USER_PYTHONPATH"
TRACKING_MODES = ("run", "user")
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


def tracking_mode(value: object) -> str:
    """Check a `repro_tracking` value; ValueError says what is allowed."""
    if value not in TRACKING_MODES:
        raise ValueError(f"got {value!r}; expected one of {', '.join(TRACKING_MODES)}")
    return str(value)


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
    """One run's copy of the project and what its processes may see and write."""

    def __init__(self, isolation: ProjectIsolation, copy: ProjectCopy, folder: Path):
        self.isolation = isolation
        self.copy = copy
        self.folder = folder
        self.tmp = folder / f"{copy.root.name}.tmp"
        self.guard_log = folder / f"{copy.root.name}.guard.log"
        self.guard_settings = folder / f"{copy.root.name}.guard.json"

    @classmethod
    def prepare(
        cls, isolation: ProjectIsolation, copy_root: Path, *, exclude: tuple[str, ...] = ()
    ) -> IsolatedRun:
        """Copy the project to `copy_root` and set up the guard and temporary folder beside it."""
        copy = copy_tree(isolation.root, copy_root, exclude=exclude, always_copy=isolation.always_copy)
        run = cls(isolation, copy, copy_root.parent)
        run.tmp.mkdir(exist_ok=True)
        settings = {
            "protected": [str(copy.source), *(str(path) for path in isolation.protected)],
            "allowed": [str(run.folder)],
            "shared": copy.shared_inodes(),
            "log": str(run.guard_log),
            "copy": str(copy.root),
        }
        run.guard_settings.write_text(json.dumps(settings, sort_keys=True), encoding="utf-8")
        return run

    def in_copy(self, path: str | Path) -> Path:
        """`path` as the copy holds it, when it lies in the project; unchanged otherwise."""
        path = Path(path)
        try:
            relative = path.resolve().relative_to(self.copy.source)
        except (ValueError, OSError, RuntimeError):
            return path
        return self.copy.root / relative

    def environment(self, base: Mapping[str, str], cwd: Path) -> dict[str, str]:
        """The environment of the training's processes, from the worker's own `base`."""
        env = dict(base)
        user_path = env.pop(USER_PYTHONPATH_VARIABLE, None)
        if user_path is None:  # not started by the launcher (an in-process run): this is the user's
            user_path = env.get("PYTHONPATH", "")
        for name, value in list(env.items()):  # PWD, a data folder... : the copy's, never the user's
            mapped = self._mapped_value(value)
            if mapped is not None:
                env[name] = mapped
        entries = [self._mapped_value(entry) or entry for entry in user_path.split(os.pathsep) if entry]
        env["PYTHONPATH"] = os.pathsep.join([str(SITE_FOLDER), *entries])
        env[GUARD_VARIABLE] = str(self.guard_settings)
        env["PWD"] = str(cwd)
        env.pop("OLDPWD", None)
        for name in ("TMPDIR", "TMP", "TEMP"):
            env[name] = str(self.tmp)
        interpreter = str(Path(sys.executable).parent)
        rest = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != interpreter]
        env["PATH"] = os.pathsep.join([interpreter, *rest])
        for name in GIT_REPOSITORY_VARIABLES:
            env.pop(name, None)
        env["GIT_CEILING_DIRECTORIES"] = str(self.copy.root.parent)
        if self.isolation.tracking == "run":
            env.update(self._tracking(env))
        return env

    def _mapped_value(self, value: str) -> str | None:
        """A variable's value that names a path in the project, as the copy's path (when the copy has it)."""
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
            if not value:
                continue  # MLflow's default store is relative: in the copy
            moved = self._store_in_copy(value)
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
        changed = self.copy.changed()
        if changed:
            raise ContractError(
                f"the run changed {changed[0]} in your project, a large git-ignored file the run shares "
                "rather than copies: list it in repro_outputs if the training writes it, or in "
                "repro_copy to copy it"
            )


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            return log.readline().strip()
    except OSError:
        return ""


def install_guard_here(run: IsolatedRun) -> None:
    """Install the write guard in this process (a function training's worker), as sitecustomize would."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pytest_repro_run_guard", SITE_FOLDER / "sitecustomize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.install(json.loads(run.guard_settings.read_text(encoding="utf-8")))
