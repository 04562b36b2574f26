"""Run a training entry point, in a fresh subprocess or in this process, and record what it produced.

The entry-point contract (documented in the README):

    def train(config_path: str, output_dir: str, seed: int | None = None,
              overrides: dict | None = None) -> Mapping

It trains with `config_path` into the empty folder `output_dir` and returns
`{"artifacts": {name: path}, "folds": [[test row numbers] per fold],
"metrics": {...}, "lineage": path or None}`; relative artifact paths are relative
to `output_dir`.  `seed` (when not None) replaces the config's seed; `overrides`
(dotted key -> value) is passed only when a test asks for it.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.lineage.hashing import sha256_file

RECORD_NAME = "repro-record.json"
TAIL_LINES = 25
HASH_SEEDS = ("1", "2")
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

ProgressSink = Callable[[str, str], None]


class TrainingFailed(Exception):
    """A run's training raised or exited non-zero; carries the end of its own stderr."""

    def __init__(self, label: str, message: str, tail: str):
        self.label = label
        self.tail = tail
        super().__init__(f"{label}: {message}\n{tail}".rstrip())


class ContractError(Exception):
    """The entry point returned something the contract does not allow."""


@dataclass(frozen=True)
class RunRecord:
    """One finished training: where its artifacts are, their hashes, its folds and metrics."""

    label: str
    output_dir: Path
    artifacts: dict[str, Path]
    hashes: dict[str, str]
    folds: list[list[int]] | None
    metrics: dict[str, Any]
    lineage: Path | None
    seconds: float
    environment: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "output_dir": str(self.output_dir),
            "artifacts": {k: str(v) for k, v in self.artifacts.items()},
            "hashes": self.hashes,
            "folds": self.folds,
            "metrics": self.metrics,
            "lineage": str(self.lineage) if self.lineage else None,
            "seconds": self.seconds,
            "environment": self.environment,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        return cls(
            label=data["label"],
            output_dir=Path(data["output_dir"]),
            artifacts={k: Path(v) for k, v in data["artifacts"].items()},
            hashes=dict(data["hashes"]),
            folds=data["folds"],
            metrics=data["metrics"],
            lineage=Path(data["lineage"]) if data["lineage"] else None,
            seconds=data["seconds"],
            environment=dict(data.get("environment") or {}),
        )


@dataclass(frozen=True)
class RunRequest:
    """What to train: the entry point, the config, and an optional seed and overrides."""

    entry: str
    config_path: Path
    seed: int | None = None
    overrides: Mapping[str, Any] | None = None


def load_entry_point(entry: str) -> Callable[..., Any]:
    """Import `module:function`; a bad name is a one-line error, not a traceback."""
    module_name, _, attr = entry.partition(":")
    # A run subprocess finds the user's module through the working directory on its
    # PYTHONPATH; an in-process run must find the same module (the `pytest` script
    # does not put the working directory on sys.path).
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ContractError(f"repro_train {entry!r}: cannot import {module_name!r} ({exc})") from None
    function = module
    for part in attr.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise ContractError(f"repro_train {entry!r}: {module_name!r} has no attribute {attr!r}")
    if not callable(function):
        raise ContractError(f"repro_train {entry!r}: not callable")
    return function


def call_entry_point(request: RunRequest, output_dir: Path) -> dict[str, Any]:
    """Call the entry point and normalise its return value to the contract's mapping."""
    function = load_entry_point(request.entry)
    kwargs: dict[str, Any] = {"seed": request.seed}
    if request.overrides:
        kwargs["overrides"] = dict(request.overrides)
    returned = function(str(request.config_path), str(output_dir), **kwargs)
    return normalise_result(returned, output_dir)


def normalise_result(returned: Any, output_dir: Path) -> dict[str, Any]:
    """Check the contract and make artifact paths absolute."""
    if hasattr(returned, "to_repro"):
        returned = returned.to_repro()
    if not isinstance(returned, Mapping):
        raise ContractError(f"the entry point must return a mapping, got {type(returned).__name__}")
    artifacts = returned.get("artifacts")
    if not isinstance(artifacts, Mapping) or not artifacts:
        raise ContractError("the entry point's result needs 'artifacts': a non-empty mapping of name -> path")
    folds = returned.get("folds")
    if folds is not None and not (
        isinstance(folds, list | tuple) and all(isinstance(f, list | tuple) for f in folds)
    ):
        raise ContractError("'folds' must be a list of lists of row numbers")
    metrics = returned.get("metrics", {})
    if not isinstance(metrics, Mapping):
        raise ContractError("'metrics' must be a mapping")
    lineage = returned.get("lineage")
    return {
        "artifacts": {str(k): str(_absolute(output_dir, v)) for k, v in artifacts.items()},
        "folds": [[int(i) for i in fold] for fold in folds] if folds is not None else None,
        "metrics": json.loads(json.dumps(metrics, default=_json_default)),
        "lineage": str(_absolute(output_dir, lineage)) if lineage else None,
    }


def _absolute(folder: Path, value: Any) -> Path:
    path = Path(value)
    return path if path.is_absolute() else folder / path


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"metrics value {value!r} is not JSON-serialisable")


def _record(
    label: str, output_dir: Path, result: Mapping[str, Any], seconds: float, env: dict[str, str]
) -> RunRecord:
    artifacts = {name: Path(path) for name, path in result["artifacts"].items()}
    missing = [f"{name} ({path})" for name, path in artifacts.items() if not path.is_file()]
    if missing:
        raise ContractError(
            f"{label}: the entry point named artifacts that do not exist: {', '.join(missing)}"
        )
    return RunRecord(
        label=label,
        output_dir=output_dir,
        artifacts=artifacts,
        hashes={name: sha256_file(path) for name, path in artifacts.items()},
        folds=result["folds"],
        metrics=result["metrics"],
        lineage=Path(result["lineage"]) if result["lineage"] else None,
        seconds=seconds,
        environment=env,
    )


def run_inprocess(request: RunRequest, output_dir: Path, label: str) -> RunRecord:
    """Train in this interpreter: fast, but shares its global state (for debugging and fuzzing)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        result = call_entry_point(request, output_dir)
    except ContractError:
        raise
    except Exception as exc:
        raise TrainingFailed(label, f"training raised {type(exc).__name__}: {exc}", "") from exc
    return _record(label, output_dir, result, time.perf_counter() - started, {})


def subprocess_environment(
    hash_seed: str, threads: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment of a run: its own hash seed and a bounded number of BLAS/OpenMP threads."""
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = hash_seed
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.getcwd(), *sys.path] if p)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.update(extra or {})
    return env


class RunningTraining:
    """A training subprocess whose stderr is relayed line by line and whose tail is kept."""

    def __init__(
        self,
        request: RunRequest,
        output_dir: Path,
        label: str,
        env: dict[str, str],
        sink: ProgressSink | None,
        cwd: Path,
        umask: int | None = None,
    ):
        output_dir.mkdir(parents=True, exist_ok=True)
        self.label = label
        self.output_dir = output_dir
        self.record_path = output_dir.parent / f"{output_dir.name}.{RECORD_NAME}"
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.env_summary = {k: env[k] for k in ("PYTHONHASHSEED", "OMP_NUM_THREADS")}
        command = [
            sys.executable,
            "-m",
            "pytest_repro.running.worker",
            "--entry",
            request.entry,
            "--config",
            str(request.config_path),
            "--output-dir",
            str(output_dir),
            "--record",
            str(self.record_path),
        ]
        if request.seed is not None:
            command += ["--seed", str(request.seed)]
        if request.overrides:
            command += ["--overrides", json.dumps(dict(request.overrides))]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            umask=-1 if umask is None else umask,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self._reader = threading.Thread(target=self._relay, args=(sink,), daemon=True)
        self._reader.start()

    def _relay(self, sink: ProgressSink | None) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n").split("\r")[-1]
            if not line:
                continue
            self.tail.append(line)
            if sink is not None:
                sink(self.label, line)

    def wait(self) -> RunRecord:
        code = self.process.wait()
        self._reader.join()
        seconds = time.perf_counter() - self.started
        tail = "\n".join(self.tail)
        if code != 0:
            raise TrainingFailed(
                self.label, f"training exited with status {code}; the end of its output:", tail
            )
        try:
            data = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise TrainingFailed(self.label, "training wrote no run record", tail) from None
        if "contract_error" in data:
            raise ContractError(f"{self.label}: {data['contract_error']}")
        return _record(self.label, self.output_dir, data, seconds, self.env_summary)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_subprocesses(
    request: RunRequest,
    runs: Mapping[str, Path],
    *,
    sink: ProgressSink | None = None,
    cwd: Path | None = None,
    env_overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, RunRecord]:
    """Train once per label, all concurrently, each in a fresh interpreter with its own hash seed.

    BLAS/OpenMP threads are divided among the runs so that they do not oversubscribe the cores.
    """
    threads = max(1, (os.cpu_count() or 1) // max(1, len(runs)))
    started = []
    try:
        for index, (label, folder) in enumerate(runs.items()):
            hash_seed = HASH_SEEDS[index % len(HASH_SEEDS)] if index < len(HASH_SEEDS) else str(index + 1)
            env = subprocess_environment(hash_seed, threads, (env_overrides or {}).get(label))
            started.append(RunningTraining(request, folder, label, env, sink, cwd or Path.cwd()))
        records = {}
        failures = []
        for running in started:
            try:
                records[running.label] = running.wait()
            except (TrainingFailed, ContractError) as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        return records
    finally:
        for running in started:
            running.kill()


def worker_main(argv: list[str] | None = None) -> int:
    """Subprocess side: call the entry point and write the run record next to the output folder."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pytest_repro.running.worker")
    parser.add_argument("--entry", required=True)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument("--record", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--overrides", default=None)
    args = parser.parse_args(argv)
    request = RunRequest(
        args.entry, args.config, args.seed, json.loads(args.overrides) if args.overrides else None
    )
    try:
        result = call_entry_point(request, args.output_dir)
    except ContractError as exc:
        write_json_atomic(args.record, {"contract_error": str(exc)})
        return 0
    write_json_atomic(args.record, result)
    return 0
