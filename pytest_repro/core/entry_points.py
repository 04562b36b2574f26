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
from pathlib import Path
from typing import Any

from pytest_repro.core.run_records import RunRequest
from pytest_repro.errors import ReproError


class ContractError(ReproError):
    """The entry point returned something the contract does not allow."""


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
