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
from pytest_repro.running.launcher import ProgressSink, TrainingFailed, run_inprocess, run_subprocesses
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
    """Twin runs by request, trained once per session and shared across xdist workers."""

    def __init__(self, shared_dir: Path, sink: ProgressSink | None = None):
        self.sink = sink
        self._cache = SharedCache(shared_dir)

    def get(self, request: RunRequest, isolation: str) -> TwinRuns:
        """Return the twin runs of `request`, training them if no worker has yet."""
        return self._cache.get(
            request_key(request, isolation),
            lambda folder: train_twins(request, folder, isolation, self.sink),
            to_json=TwinRuns.to_json,
            from_json=TwinRuns.from_json,
            failure=TwinFailure,
            expected=(TrainingFailed, ContractError),
        )
