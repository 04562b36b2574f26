"""Twin runs: train the same request twice, once per session, shared by every check that needs it.

The cache lives in a folder shared by all pytest-xdist workers and is guarded by a
file lock: the first worker to ask trains, the others wait and reuse its runs (or
its failure), so `-n 2` trains each config twice only once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.runs import (
    ContractError,
    ProgressSink,
    RunRecord,
    RunRequest,
    TrainingFailed,
    run_inprocess,
    run_subprocesses,
)
from training.atomic import write_json_atomic
from training.hashing import sha256_bytes, sha256_file

RUN_LABELS = ("run-a", "run-b")


@dataclass(frozen=True)
class TwinRuns:
    """Two trainings of one request and the wall time they took together."""

    a: RunRecord
    b: RunRecord
    seconds: float
    isolation: str

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "seconds": self.seconds,
            "isolation": self.isolation,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TwinRuns:
        return cls(
            RunRecord.from_json(data["a"]), RunRecord.from_json(data["b"]), data["seconds"], data["isolation"]
        )


class TwinFailure(Exception):
    """The twin runs could not be produced; every check that needs them reports this."""


def request_key(request: RunRequest, isolation: str) -> str:
    """Identify a request by its entry point, config bytes, seed, overrides and isolation."""
    try:
        config_hash = sha256_file(request.config_path)
    except OSError:
        config_hash = "missing"
    identity = json.dumps(
        [request.entry, str(request.config_path), config_hash, request.seed, request.overrides, isolation],
        sort_keys=True,
        default=str,
    )
    return sha256_bytes(identity.encode())[:16]


def train_twins(
    request: RunRequest, folder: Path, isolation: str, sink: ProgressSink | None = None
) -> TwinRuns:
    """Train twice into `folder/run-a` and `folder/run-b`: concurrent subprocesses, or in process."""
    started = time.perf_counter()
    runs = {label: folder / label for label in RUN_LABELS}
    if isolation == "inprocess":
        records = {label: run_inprocess(request, path, label) for label, path in runs.items()}
    else:
        records = run_subprocesses(request, runs, sink=sink, cwd=Path.cwd())
    return TwinRuns(records["run-a"], records["run-b"], time.perf_counter() - started, isolation)


class TwinCache:
    """Twin runs by request, memoised in memory and shared across xdist workers on disk."""

    def __init__(self, shared_dir: Path, sink: ProgressSink | None = None):
        self.shared_dir = shared_dir
        self.sink = sink
        self._memo: dict[str, TwinRuns | TwinFailure] = {}

    def get(self, request: RunRequest, isolation: str) -> TwinRuns:
        """Return the twin runs of `request`, training them if no worker has yet."""
        key = request_key(request, isolation)
        if key not in self._memo:
            self._memo[key] = self._load_or_train(key, request, isolation)
        found = self._memo[key]
        if isinstance(found, TwinFailure):
            raise found
        return found

    def _load_or_train(self, key: str, request: RunRequest, isolation: str) -> TwinRuns | TwinFailure:
        self.shared_dir.mkdir(parents=True, exist_ok=True)
        result_path = self.shared_dir / f"{key}.json"
        with _locked(self.shared_dir / f"{key}.lock"):
            if result_path.exists():
                data = json.loads(result_path.read_text(encoding="utf-8"))
                if "failure" in data:
                    return TwinFailure(data["failure"])
                return TwinRuns.from_json(data)
            try:
                twins = train_twins(request, self.shared_dir / key, isolation, self.sink)
            except (TrainingFailed, ContractError) as exc:
                write_json_atomic(result_path, {"failure": str(exc)})
                return TwinFailure(str(exc))
            write_json_atomic(result_path, twins.to_json())
            return twins


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
