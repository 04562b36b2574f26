"""What a training is and what a run returns: the contract between a user's training and the plugin.

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
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.errors import ReproError

SEED_MIN = 0
SEED_MAX = 2**32 - 1
SEED_RANGE_TEXT = "an integer in [0, 2**32 - 1]"
# Knobs the variation hunt sets in a run's environment; a training may honour them.
N_JOBS_VARIABLE = "REPRO_N_JOBS"
ROW_ORDER_VARIABLE = "REPRO_ROW_ORDER_SEED"
# The worker processes a run may use: the plugin sets it to the share of the cores it gives
# the run (1 for each twin on two cores), so concurrent runs never oversubscribe the machine.
WORKERS_VARIABLE = "REPRO_WORKERS"
# The variables a training may read to cooperate with the variations (what `not exercised` is judged by).
CONTRACT_VARIABLES = frozenset({N_JOBS_VARIABLE, ROW_ORDER_VARIABLE, WORKERS_VARIABLE})
# The thread-count variables BLAS and OpenMP libraries read once, when they load; the
# plugin sets each to a run's share of the cores, and a training's own worker processes may
# set them to 1.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


DEFAULT_TIMEOUT = 3600.0  # an hour: far above a test-sized training, and never a hung CI job


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), not merely those the machine has.

    What a training without `REPRO_WORKERS` may use, and what the plugin shares among its runs.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity on this platform
        return max(1, os.cpu_count() or 1)


def is_seed(value: Any) -> bool:
    """Return whether `value` is a seed every library accepts: an int (not a bool) in [0, 2**32 - 1]."""
    return isinstance(value, int) and not isinstance(value, bool) and SEED_MIN <= value <= SEED_MAX


class ContractError(ReproError):
    """The entry point returned something the contract does not allow."""


@dataclass(frozen=True)
class RunRecord:
    """One finished training: where its artifacts are, their hashes, its folds and metrics."""

    label: str
    output_dir: Path
    artifacts: dict[str, Path]
    hashes: dict[str, str]
    folds: list[list[int]] | None
    metrics: dict[str, Any] | None  # None: unknown (a recorded run that kept no file of them)
    lineage: Path | None
    seconds: float
    environment: dict[str, str] = field(default_factory=dict)
    # The contract variables (REPRO_N_JOBS, REPRO_ROW_ORDER_SEED) the training read; None when unknown.
    variables_read: tuple[str, ...] | None = None
    # What the run's Python processes recorded (run_site's recorder), by kind; None when not recorded.
    events: dict[str, list[dict[str, Any]]] | None = None
    # The SHA-256 of the folds when only that is known: a recorded run's lineage keeps no rows.
    folds_sha256: str | None = None

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
            "variables_read": list(self.variables_read) if self.variables_read is not None else None,
            "events": self.events,
            "folds_sha256": self.folds_sha256,
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
            variables_read=tuple(data["variables_read"]) if data.get("variables_read") is not None else None,
            events=data.get("events"),
            folds_sha256=data.get("folds_sha256"),
        )


@dataclass(frozen=True)
class RunRequest:
    """What to train: the entry point, the config, and an optional seed and overrides."""

    entry: str
    config_path: Path
    seed: int | None = None
    overrides: Mapping[str, Any] | None = None
    command: Any = None  # a running.command_training.CommandTraining, for a command line training
    timeout: float | None = None  # seconds a run may take before it is stopped (None: no limit)
    project: Any = None  # a running.isolation.ProjectIsolation: the project a run copies and may not write


def load_entry_point(entry: str, setting: str = "repro_train") -> Callable[..., Any]:
    """Import `module:function`; a bad name is a one-line error naming the `setting` it came from."""
    module_name, _, attr = entry.partition(":")
    if not module_name or not attr:
        raise ContractError(f"{setting} {entry!r}: expected module:function")
    # A run subprocess finds the user's module through the working directory on its
    # PYTHONPATH; an in-process run must find the same module (the `pytest` script
    # does not put the working directory on sys.path).
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ContractError(f"{setting} {entry!r}: cannot import {module_name!r} ({exc})") from None
    function = module
    for part in attr.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise ContractError(f"{setting} {entry!r}: {module_name!r} has no attribute {attr!r}")
    if not callable(function):
        raise ContractError(f"{setting} {entry!r}: not callable")
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
    metrics = returned.get("metrics", {})
    if not isinstance(metrics, Mapping):
        raise ContractError("'metrics' must be a mapping")
    try:
        metrics = json.loads(json.dumps(metrics, default=_json_default, allow_nan=True))
    except (TypeError, ValueError) as exc:
        raise ContractError(f"'metrics' must hold JSON-like values: {exc}") from None
    lineage = returned.get("lineage")
    return {
        "artifacts": {str(k): str(_absolute(output_dir, v)) for k, v in artifacts.items()},
        "folds": normalise_folds(returned.get("folds")),
        "metrics": metrics,
        "lineage": str(_absolute(output_dir, lineage)) if lineage else None,
    }


def normalise_folds(folds: Any) -> list[list[int]] | None:
    """Return the test rows of each fold, from what scikit-learn's splitters give or a plain list.

    A fold may be its test rows (a list, tuple or 1-d array of integers) or a
    `(train, test)` pair of such sequences, as `splitter.split(X, y)` yields; a
    generator of folds is accepted too.  Anything else is one ContractError naming the
    fold and what it holds.
    """
    if folds is None:
        return None
    if isinstance(folds, str | bytes | Mapping) or not _iterable(folds):
        raise ContractError(f"'folds' must be a list of folds, got {type(folds).__name__}")
    return [_test_rows(index, fold) for index, fold in enumerate(folds)]


def _test_rows(index: int, fold: Any) -> list[int]:
    items = _items(fold)
    if items is None:
        raise ContractError(
            f"'folds'[{index}]: expected test row numbers or a (train, test) pair, got {type(fold).__name__}"
        )
    if len(items) == 2 and all(_items(part) is not None for part in items):
        items = _items(items[1])  # (train, test): the test rows identify the fold
    rows = []
    for row in items:
        if isinstance(row, bool) or not hasattr(row, "__index__"):
            raise ContractError(
                f"'folds'[{index}]: row numbers must be integers, got {row!r} ({type(row).__name__})"
            )
        rows.append(int(row.__index__()))
    return rows


def _items(value: Any) -> list[Any] | None:
    """The elements of a list, tuple or 1-d array; None for anything else.

    Sets are refused with scalars, strings and mappings: their order is not the training's.
    """
    if isinstance(value, str | bytes | Mapping | set | frozenset) or not _iterable(value):
        return None
    if getattr(value, "ndim", 1) != 1:
        return None
    return list(value)


def _iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _absolute(folder: Path, value: Any) -> Path:
    path = Path(value)
    return path if path.is_absolute() else folder / path


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not a JSON value")
