"""When twins differ and their recorders name no cause: remove the twins' deliberate differences, one at a time.

The twins differ on purpose in two things besides being two runs: their hash seeds
(PYTHONHASHSEED 1 and 2, see `launcher.HASH_SEEDS`) and where they train (each has its
own output folder and, for a command, its own copy of the project).  The iteration order
of a set of str or bytes follows the hash seed, and no hook sees a set iterated, so the
recorder cannot name that line; the pair is trained again instead:

1. run-a again, with run-a's hash seed (1) in its own folder: if it agrees with run-a,
   the hash seed is the cause;
2. else twice, one after the other in the same folder, with equal hash seeds: if they
   now agree, where the run is (an absolute path in the output, a temporary name) is the cause.

Either claim rests on runs that agreed once the one difference was removed; when neither
step agrees, nothing is claimed.  Only a failure pays for these runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core.environment_names import THREAD_VARIABLES, WORKERS_VARIABLE
from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.running.launcher import HASH_SEEDS
from pytest_repro.running.service import RunService

HASH_SEED_CAUSE = (
    f"cause: the twins ran with PYTHONHASHSEED {HASH_SEEDS[0]} and {HASH_SEEDS[1]}; with equal hash seeds "
    "they agree (iteration over a set, or a dict built from one, of str or bytes follows the hash seed: "
    "sort it before use)"
)
PLACE_CAUSE = (
    "cause: the twins trained in different folders; trained twice in the same folder (with equal hash "
    "seeds) they agree (the output depends on where the run is: an absolute path, a temporary name)"
)


@dataclass(frozen=True)
class Narrowing:
    """What removing the twins' differences showed: the cause line, or None when neither removal helped."""

    line: str | None

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Narrowing:
        return cls(data.get("line"))


def narrow_twins(request: RunRequest, folder: Path, runs: RunService, twin: RunRecord) -> Narrowing:
    """Train again without one deliberate difference at a time (see the module's docstring).

    `twin` is run-a (hash seed 1): one more run with hash seed 1 is compared with it, and
    every run gets its BLAS/OpenMP thread count, so that nothing else changes.
    """
    threads = twin.environment.get("OMP_NUM_THREADS")
    shares = {**dict.fromkeys(THREAD_VARIABLES, threads), WORKERS_VARIABLE: threads} if threads else {}
    equal_seed = {"PYTHONHASHSEED": HASH_SEEDS[0], **shares}
    again = _train_in(folder / "equal-hash-seeds", request, runs, equal_seed)
    if _agree(twin, again):
        return Narrowing(HASH_SEED_CAUSE)
    place = folder / "same-folder"
    first = _train_in(place, request, runs, equal_seed)
    second = _train_in(place, request, runs, equal_seed)
    return Narrowing(PLACE_CAUSE if _agree(first, second) else None)


def _train_in(place: Path, request: RunRequest, runs: RunService, env: dict[str, str]) -> RunRecord:
    """One run in `place/run`, emptied first: every run there has the same paths."""
    shutil.rmtree(place, ignore_errors=True)
    label = f"narrowing ({place.name})"
    return runs.run_once(request, place / "run", label, env_overrides=env)


def _agree(a: RunRecord, b: RunRecord) -> bool:
    """Whether two runs produced the same bytes, folds and metrics."""
    return a.hashes == b.hashes and a.folds == b.folds and a.metrics == b.metrics
