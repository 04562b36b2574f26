"""A training that is a command line (`python src/train.py`), run in a fresh copy of the project.

Most repositories train with a script, not with a function of our signature: it runs
at import time, reads `data/*.csv` and writes `models/model.pkl` by paths relative to
its working directory, and often hard-codes its seed.  Such a script is run unchanged
in its own copy of the tree (`tree_copy`), and what it wrote is collected by the
output globs.  Placeholders, all optional, let a script that accepts them be driven:
`{seed}` (the run's seed), `{output_dir}` (an empty folder of the run's own) and
`{config}` (the config's path in the copy).
"""

from __future__ import annotations

import os
import shlex
import string
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_repro.core.entry_points import ContractError
from pytest_repro.core.run_records import RunRequest

if TYPE_CHECKING:
    from pytest_repro.running.isolation import IsolatedRun

# The isolation (tree copies, git, the run site) is imported by the functions that run a
# command: the settings build a CommandTraining in every session, `--repro` or not.

PLACEHOLDERS = ("seed", "output_dir", "config")
COPY_FOLDER = "project"
OUTPUT_FOLDER = "repro-output"
# How many written files a glob that matched nothing names (the rest are counted).
WRITTEN_SHOWN = 20


@dataclass(frozen=True)
class CommandTraining:
    """What the ini settings say of a command training: the command, its output globs, its metrics file."""

    command: str
    outputs: tuple[str, ...]
    metrics: str | None
    root: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "outputs": list(self.outputs),
            "metrics": self.metrics,
            "root": str(self.root),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CommandTraining:
        return cls(data["command"], tuple(data["outputs"]), data.get("metrics"), Path(data["root"]))

    @property
    def takes_seed(self) -> bool:
        """Whether the command passes the run's seed on; a script that does not owns its seed."""
        return "{seed}" in self.command

    def problems(self) -> list[str]:
        """What makes these settings unusable, each as one line (empty when they are fine)."""
        found = []
        try:
            words = shlex.split(self.command)
        except ValueError as exc:
            return [f"repro_command {self.command!r}: not a valid command line ({exc})"]
        if not words:
            found.append("repro_command is empty")
        for word in words:
            for name in _placeholders(word):
                if name not in PLACEHOLDERS:
                    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                    found.append(f"repro_command: unknown placeholder {{{name}}}; allowed: {allowed}")
        if not self.outputs and "{output_dir}" not in self.command:
            found.append(
                "repro_outputs: not set; list the files the command writes as globs relative to the "
                'project (e.g. ["models/*.pkl", "metrics.json"]), or pass {output_dir} to the command'
            )
        for pattern in self.outputs:
            if pattern.startswith("/") or ".." in Path(pattern).parts:
                found.append(f"repro_outputs {pattern!r}: must be a glob relative to the project")
        if self.metrics is not None and not self.metrics.startswith("mlflow:"):
            from pytest_repro.running.metrics_file import SUFFIXES, SUFFIXES_TEXT

            if Path(self.metrics).suffix.lower() not in SUFFIXES:
                found.append(
                    f"repro_metrics {self.metrics!r}: expected a {SUFFIXES_TEXT} file, by its extension, "
                    "or mlflow: (the MLflow run the command logged)"
                )
        return found


def run_command_training(training: CommandTraining, request: RunRequest, output_dir: Path) -> dict[str, Any]:
    """Copy the project, run the command in the copy, and return the contract's mapping of what it wrote."""
    from pytest_repro.running.isolation import IsolatedRun, ProjectIsolation

    isolation = request.project or ProjectIsolation(training.root)
    run = IsolatedRun.prepare(isolation, output_dir / COPY_FOLDER, exclude=training.outputs)
    tree = run.copy.root
    own_output = tree / OUTPUT_FOLDER
    own_output.mkdir(exist_ok=True)
    config = run.in_copy(request.config_path) if request.config_path.is_file() else None
    words = [expand_word(word, request, own_output, config) for word in shlex.split(training.command)]
    if words and words[0] in ("python", "python3"):
        words[0] = sys.executable  # the interpreter pytest runs in, with the project's packages
    sys.stdout.flush()
    started = _mark_start(output_dir)
    code = subprocess.run(
        words, cwd=tree, env=run.environment(os.environ, tree), stdin=subprocess.DEVNULL, check=False
    ).returncode
    run.finish()  # a write refused by the guard is the cause, whatever the exit status
    if code != 0:
        raise SystemExit(code)
    artifacts = _collect(training, tree, own_output, started)
    return {
        "artifacts": artifacts,
        "folds": None,
        "metrics": _metrics(training, tree, output_dir),
        "lineage": None,
        "inputs": _inputs_read(run, output_dir, set(artifacts)),
    }


def _inputs_read(run: IsolatedRun, output_dir: Path, outputs: set[str]) -> dict[str, str]:
    """The project's files the command's processes read (the recorder's), less its outputs: the run's inputs.

    A file the copy rewrote for the run (an MLflow store's `meta.yaml`, pointed at the
    copy) is the user's own file as an input: the copy's bytes name the run's folder,
    which differs between two runs and from a run by hand.
    """
    from pytest_repro.running.isolation import inputs_read, recorded_events

    assert run.copy is not None
    events = recorded_events(command_record_folder(output_dir), run.copy.root)
    found = inputs_read(events, run.isolation.root, run.copy.root, outputs)
    for relative in set(run.copy.noted) & set(found):
        found[relative] = str(run.isolation.root / relative)
    return found


def command_copy_folder(output_dir: Path) -> Path:
    """Where a command run trained into `output_dir` has its copy of the project."""
    return output_dir / COPY_FOLDER


def command_record_folder(output_dir: Path) -> Path:
    """Where the recorder logs of a command run trained into `output_dir` are (beside its copy)."""
    from pytest_repro.running.isolation import ISOLATION_SUFFIX

    return output_dir / f"{COPY_FOLDER}{ISOLATION_SUFFIX}" / "record"


def expand_word(word: str, request: RunRequest, output_dir: Path, config: Path | None) -> str:
    """One word of the command with its placeholders filled in: `{seed}`, `{output_dir}`, `{config}`."""
    values = {"output_dir": str(output_dir)}
    if "{seed}" in word:
        if request.seed is None:
            raise ContractError(
                "repro_command uses {seed}, but no seed is known: set repro_seed in the ini file, give the "
                "config a top-level seed, or pass one (pytest --repro-seed N, repro-run --seed N)"
            )
        values["seed"] = str(request.seed)
    if "{config}" in word:
        if config is None:
            raise ContractError("repro_command uses {config}, but the project has no config file")
        values["config"] = str(config)
    for name, value in values.items():
        word = word.replace("{" + name + "}", value)
    return word


def _collect(training: CommandTraining, tree: Path, own_output: Path, started: int) -> dict[str, str]:
    """Every output file by its path relative to the copy (a name any user recognises)."""
    found: dict[str, str] = {}
    for pattern in training.outputs:
        matched = sorted(p for p in tree.glob(pattern) if p.is_file() and not p.is_symlink())
        if not matched:
            raise ContractError(
                f"repro_outputs {pattern!r} matched no file the command wrote; {_written(tree, started)}"
            )
        for path in matched:
            found[path.relative_to(tree).as_posix()] = str(path)
    if "{output_dir}" in training.command:
        for path in sorted(own_output.rglob("*")):
            if path.is_file():
                found[path.relative_to(tree).as_posix()] = str(path)
    if not found:
        raise ContractError("the command wrote no output file")
    return found


def _mark_start(output_dir: Path) -> int:
    """Note when the command starts, in the file system's own clock: a file it writes is changed after this."""
    marker = output_dir / "repro-command-started"
    marker.touch()
    return marker.stat().st_ctime_ns


def _written(tree: Path, started: int) -> str:
    """What the command wrote in its copy (files created or changed since it started), to name with a bad glob.

    Compared by change time with a file created just before the command started, in the
    same file system clock; copied and shared files were all made before it.
    """
    written = []
    for folder, folders, files in os.walk(tree):
        folders[:] = sorted(name for name in folders if name not in (".git", "__pycache__"))
        for name in sorted(files):
            path = Path(folder, name)
            try:
                if path.lstat().st_ctime_ns > started:
                    written.append(path.relative_to(tree).as_posix())
            except OSError:
                continue
    if not written:
        return "it wrote no file in its copy of the project"
    shown = ", ".join(written[:WRITTEN_SHOWN])
    more = f" and {len(written) - WRITTEN_SHOWN} more" if len(written) > WRITTEN_SHOWN else ""
    return f"it wrote {len(written)} file{'s' if len(written) != 1 else ''}: {shown}{more}"


def _metrics(training: CommandTraining, tree: Path, output_dir: Path) -> dict[str, Any]:
    """The metrics file's values (JSON, YAML or CSV, by its extension), the logged MLflow run's, or none."""
    if training.metrics is None:
        return {}
    from pytest_repro.running.mlflow_metrics import is_mlflow_source, read_mlflow_metrics

    if is_mlflow_source(training.metrics):
        # The run's own store, when the user's tracking URI pointed outside the project (isolation.py).
        return read_mlflow_metrics(training.metrics, tree, output_dir / "mlruns", training.root)
    from pytest_repro.running.metrics_file import read_metrics_file

    return read_metrics_file(tree / training.metrics, f"repro_metrics {training.metrics!r}")


def _placeholders(word: str) -> list[str]:
    """The `{name}` fields of one word of the command, parsed as str.format would parse them."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(word) if field is not None]
    except ValueError:  # an unmatched brace: the literal text is passed through unchanged
        return []
