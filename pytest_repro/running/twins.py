"""Twin runs: train the same request twice, once per session, shared by every check that needs it.

The cache lives in a folder shared by all pytest-xdist workers and is guarded by a
file lock: the first worker to ask trains, the others wait and reuse its runs (or
its failure), so `-n 2` trains each config twice only once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.contract import ContractError, RunRecord, RunRequest
from pytest_repro.errors import ReproError
from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
from pytest_repro.running.launcher import ProgressSink, TrainingFailed, run_inprocess
from pytest_repro.running.scheduler import Batch, TrainingScheduler
from pytest_repro.running.shared_cache import SharedCache

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


class TwinFailure(ReproError):
    """The twin runs could not be produced; every check that needs them reports this."""


def request_key(request: RunRequest, isolation: str) -> str:
    """Identify a request by its entry point, config bytes, seed, overrides and isolation."""
    try:
        config_hash = sha256_file(request.config_path)
    except OSError:
        config_hash = "missing"
    identity = json.dumps(
        [
            request.entry,
            str(request.config_path),
            config_hash,
            request.seed,
            request.overrides,
            isolation,
            request.command.to_json() if request.command is not None else None,
        ],
        sort_keys=True,
        default=str,
    )
    return sha256_bytes(identity.encode())[:16]


def twin_folders(folder: Path) -> dict[str, Path]:
    """Where the twins of one request train: `folder/run-a` and `folder/run-b`."""
    return {label: folder / label for label in RUN_LABELS}


def train_twins(
    request: RunRequest,
    folder: Path,
    isolation: str,
    sink: ProgressSink | None = None,
    scheduler: TrainingScheduler | None = None,
) -> TwinRuns:
    """Train twice into `folder/run-a` and `folder/run-b`: concurrent subprocesses, or in process."""
    runs = twin_folders(folder)
    if isolation == "inprocess":
        started = time.perf_counter()
        records = {label: run_inprocess(request, path, label) for label, path in runs.items()}
        return TwinRuns(records["run-a"], records["run-b"], time.perf_counter() - started, isolation)
    batch = (scheduler or TrainingScheduler(sink)).submit(request, runs, cwd=Path.cwd())
    return twins_of(batch, isolation)


def twins_of(batch: Batch, isolation: str) -> TwinRuns:
    """Wait for a batch of twins and return them, timed from the moment they started."""
    records = batch.wait()
    return TwinRuns(records["run-a"], records["run-b"], batch.seconds or 0.0, isolation)


class TwinCache:
    """Twin runs by request, trained once per session and shared across xdist workers.

    `start` launches a request's twins ahead of the first check that needs them (at
    session start), through the session's scheduler; `get` then waits for those runs
    instead of starting new ones.
    """

    def __init__(
        self, shared_dir: Path, sink: ProgressSink | None = None, scheduler: TrainingScheduler | None = None
    ):
        self.sink = sink
        self.scheduler = scheduler or TrainingScheduler(sink)
        self._cache = SharedCache(shared_dir)
        self._started: dict[str, Batch] = {}

    def start(self, request: RunRequest, isolation: str) -> Batch | None:
        """Start the twins of `request` now, unless they are in process or already known."""
        key = request_key(request, isolation)
        if isolation == "inprocess" or key in self._started or self._cache.has(key):
            return None
        batch = self.scheduler.submit(request, twin_folders(self._cache.folder / key), cwd=Path.cwd())
        self._started[key] = batch
        return batch

    def cancel(self, request: RunRequest, isolation: str) -> None:
        """Stop twins started ahead that no selected check needs."""
        batch = self._started.pop(request_key(request, isolation), None)
        if batch is not None:
            batch.cancel()

    def get(self, request: RunRequest, isolation: str) -> TwinRuns:
        """Return the twin runs of `request`, training them if no worker has yet."""
        key = request_key(request, isolation)

        def compute(folder: Path) -> TwinRuns:
            started = self._started.pop(key, None)
            if started is not None:
                return twins_of(started, isolation)
            return train_twins(request, folder, isolation, self.sink, self.scheduler)

        return self._cache.get(
            key,
            compute,
            to_json=TwinRuns.to_json,
            from_json=TwinRuns.from_json,
            failure=TwinFailure,
            expected=(TrainingFailed, ContractError),
        )
