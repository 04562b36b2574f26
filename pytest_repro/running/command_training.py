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

import json
import os
import shlex
import string
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.contract import ContractError, RunRequest
from pytest_repro.running.isolation import IsolatedRun, ProjectIsolation, inputs_read, recorded_events

PLACEHOLDERS = ("seed", "output_dir", "config")
COPY_FOLDER = "project"
OUTPUT_FOLDER = "repro-output"


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
        return found


def run_command_training(training: CommandTraining, request: RunRequest, output_dir: Path) -> dict[str, Any]:
    """Copy the project, run the command in the copy, and return the contract's mapping of what it wrote."""
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
    code = subprocess.run(
        words, cwd=tree, env=run.environment(os.environ, tree), stdin=subprocess.DEVNULL, check=False
    ).returncode
    run.finish()  # a write refused by the guard is the cause, whatever the exit status
    if code != 0:
        raise SystemExit(code)
    artifacts = _collect(training, tree, own_output)
    return {
        "artifacts": artifacts,
        "folds": None,
        "metrics": _metrics(training, tree),
        "lineage": None,
        "inputs": _inputs_read(run, output_dir, set(artifacts)),
    }


def _inputs_read(run: IsolatedRun, output_dir: Path, outputs: set[str]) -> dict[str, str]:
    """The project's files the command's processes read (the recorder's), less its outputs: the run's inputs.

    A file the copy rewrote for the run (an MLflow store's `meta.yaml`, pointed at the
    copy) is the user's own file as an input: the copy's bytes name the run's folder,
    which differs between two runs and from a run by hand.
    """
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
    return output_dir / f"{COPY_FOLDER}.record"


def expand_word(word: str, request: RunRequest, output_dir: Path, config: Path | None) -> str:
    """One word of the command with its placeholders filled in: `{seed}`, `{output_dir}`, `{config}`."""
    values = {"output_dir": str(output_dir)}
    if "{seed}" in word:
        if request.seed is None:
            raise ContractError(
                "repro_command uses {seed}, but no seed is known: give the config a top-level seed "
                "or pass one (pytest --repro-seed N, repro-run --seed N)"
            )
        values["seed"] = str(request.seed)
    if "{config}" in word:
        if config is None:
            raise ContractError("repro_command uses {config}, but the project has no config file")
        values["config"] = str(config)
    for name, value in values.items():
        word = word.replace("{" + name + "}", value)
    return word


def _collect(training: CommandTraining, tree: Path, own_output: Path) -> dict[str, str]:
    """Every output file by its path relative to the copy (a name any user recognises)."""
    found: dict[str, str] = {}
    for pattern in training.outputs:
        matched = sorted(p for p in tree.glob(pattern) if p.is_file() and not p.is_symlink())
        if not matched:
            raise ContractError(f"repro_outputs {pattern!r} matched no file the command wrote")
        for path in matched:
            found[path.relative_to(tree).as_posix()] = str(path)
    if "{output_dir}" in training.command:
        for path in sorted(own_output.rglob("*")):
            if path.is_file():
                found[path.relative_to(tree).as_posix()] = str(path)
    if not found:
        raise ContractError("the command wrote no output file")
    return found


def _metrics(training: CommandTraining, tree: Path) -> dict[str, Any]:
    if training.metrics is None:
        return {}
    path = tree / training.metrics
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"repro_metrics {training.metrics!r}: the command wrote no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ContractError(f"repro_metrics {training.metrics!r}: not a JSON file ({exc})") from None
    if not isinstance(metrics, dict):
        raise ContractError(f"repro_metrics {training.metrics!r}: expected a JSON object of metrics")
    return metrics


def _placeholders(word: str) -> list[str]:
    """The `{name}` fields of one word of the command, parsed as str.format would parse them."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(word) if field is not None]
    except ValueError:  # an unmatched brace: the literal text is passed through unchanged
        return []
