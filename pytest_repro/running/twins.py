"""Twin runs: train the same request twice, once per session, shared by every check that needs it.

The cache lives in a folder shared by all pytest-xdist workers and is guarded by a
file lock: the first worker to ask trains, the others wait and reuse its runs (or
its failure), so `-n 2` trains each config twice only once.  Against a recorded run
(`--repro-against LINEAGE`) only run-b trains, and run-a is the recorded run
(`pytest_repro.running.recorded`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core.entry_points import ContractError
from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.errors import ReproError
from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
from pytest_repro.running.launcher import ProgressSink, TrainingFailed, run_inprocess
from pytest_repro.running.recorded import RecordedRun
from pytest_repro.running.scheduler import Batch, TrainingScheduler
from pytest_repro.running.shared_cache import SharedCache

RUN_LABELS = ("run-a", "run-b")
# Run-b alone, against a recorded run-a: the hash seed it has among the twins.
FRESH_RUN_ENVIRONMENT = {"run-b": {"PYTHONHASHSEED": "2"}}


@dataclass(frozen=True)
class TwinRuns:
    """Two trainings of one request and the wall time they took together."""

    a: RunRecord
    b: RunRecord
    seconds: float
    isolation: str
    recorded: bool = False  # run-a is a recorded run (--repro-against), not a training of this session

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "seconds": self.seconds,
            "isolation": self.isolation,
            "recorded": self.recorded,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TwinRuns:
        return cls(
            RunRecord.from_json(data["a"]),
            RunRecord.from_json(data["b"]),
            data["seconds"],
            data["isolation"],
            data.get("recorded", False),
        )


class TwinFailure(ReproError):
    """The twin runs could not be produced; every check that needs them reports this."""


def request_key(request: RunRequest, isolation: str, against: RecordedRun | None = None) -> str:
    """Identify a request by its entry point, config bytes, seed, overrides, isolation and recorded run-a."""
    identity = json.dumps(
        [
            request.entry,
            str(request.config_path),
            _file_hash(request.config_path),
            request.seed,
            request.overrides,
            isolation,
            request.command.to_json() if request.command is not None else None,
            [str(against.lineage_path), _file_hash(against.lineage_path)] if against is not None else None,
        ],
        sort_keys=True,
        default=str,
    )
    return sha256_bytes(identity.encode())[:16]


def _file_hash(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return "missing"


def twin_folders(folder: Path, against: RecordedRun | None = None) -> dict[str, Path]:
    """Where the twins of one request train: `folder/run-a` and `folder/run-b` (run-b alone against a recorded run)."""
    return {label: folder / label for label in RUN_LABELS if against is None or label == "run-b"}


def train_twins(
    request: RunRequest,
    folder: Path,
    isolation: str,
    sink: ProgressSink | None = None,
    scheduler: TrainingScheduler | None = None,
    against: RecordedRun | None = None,
) -> TwinRuns:
    """Train twice into `folder/run-a` and `folder/run-b`: concurrent subprocesses, or in process.

    Against a recorded run, train run-b alone and pair it with the recorded run-a.
    """
    runs = twin_folders(folder, against)
    if isolation == "inprocess":
        started = time.perf_counter()
        records = {label: run_inprocess(request, path, label) for label, path in runs.items()}
        return _pair(records, time.perf_counter() - started, isolation, against)
    environment = FRESH_RUN_ENVIRONMENT if against is not None else None
    batch = (scheduler or TrainingScheduler(sink)).submit(
        request, runs, env_overrides=environment, cwd=Path.cwd()
    )
    return twins_of(batch, isolation, against)


def twins_of(batch: Batch, isolation: str, against: RecordedRun | None = None) -> TwinRuns:
    """Wait for a batch of twins (or of run-b alone) and return them, timed from the moment they started."""
    return _pair(batch.wait(), batch.seconds or 0.0, isolation, against)


def _pair(
    records: dict[str, RunRecord], seconds: float, isolation: str, against: RecordedRun | None
) -> TwinRuns:
    if against is None:
        return TwinRuns(records["run-a"], records["run-b"], seconds, isolation)
    fresh = records["run-b"]
    try:
        recorded = against.twin_of(fresh)
    except ReproError as exc:  # changed since the preflight verified it
        raise ContractError(f"the recorded run {against.lineage_path} cannot be read: {exc}") from None
    return TwinRuns(recorded, fresh, seconds, isolation, recorded=True)


class TwinCache:
    """Twin runs by request, trained once per session and shared across xdist workers.

    `start` launches a request's twins ahead of the first check that needs them (at
    session start), through the session's scheduler (`service.RunService` owns both); `get` then waits for those runs
    instead of starting new ones.
    """

    def __init__(
        self, cache: SharedCache, sink: ProgressSink | None = None, scheduler: TrainingScheduler | None = None
    ):
        self.sink = sink
        self.scheduler = scheduler or TrainingScheduler(sink)
        self._cache = cache
        self._started: dict[str, Batch] = {}

    def start(self, request: RunRequest, isolation: str, against: RecordedRun | None = None) -> Batch | None:
        """Start the twins of `request` now (run-b alone against a recorded run), unless in process or known."""
        key = request_key(request, isolation, against)
        if isolation == "inprocess" or key in self._started or self._cache.has(key):
            return None
        environment = FRESH_RUN_ENVIRONMENT if against is not None else None
        batch = self.scheduler.submit(
            request,
            twin_folders(self._cache.folder / key, against),
            env_overrides=environment,
            cwd=Path.cwd(),
        )
        self._started[key] = batch
        return batch

    def cancel(self, request: RunRequest, isolation: str, against: RecordedRun | None = None) -> None:
        """Stop twins started ahead that no selected check needs."""
        batch = self._started.pop(request_key(request, isolation, against), None)
        if batch is not None:
            batch.cancel()

    def get(self, request: RunRequest, isolation: str, against: RecordedRun | None = None) -> TwinRuns:
        """Return the twin runs of `request` (or run-b with the recorded run-a), training them if no worker has yet."""
        key = request_key(request, isolation, against)

        def compute(folder: Path) -> TwinRuns:
            started = self._started.pop(key, None)
            if started is not None:
                return twins_of(started, isolation, against)
            return train_twins(request, folder, isolation, self.sink, self.scheduler, against)

        return self._cache.get(
            key,
            compute,
            to_json=TwinRuns.to_json,
            from_json=TwinRuns.from_json,
            failure=TwinFailure,
            expected=(TrainingFailed, ContractError),
        )
