"""Compare outputs modulo what a probe changes on purpose: model parameters and an echoed seed.

A run with `REPRO_N_JOBS=2` stores `n_jobs=2` in every estimator that takes it (and
LightGBM stores it as `num_threads`: parameter_names.py), and a run with another seed
stores that seed as `random_state` and usually writes it into its metrics.  Those are the inputs showing through, not differences in what was
learned; the functions here take them out before outputs are compared.  Also the
flattening of JSON values into leaves by JSON pointer, shared by the metric deltas of
the row-order variation and the seed sweep's spread.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pytest_repro.lineage.hashing import sha256_file


def same_model_except(path_a: Path, path_b: Path, ignore_params: Collection[str]) -> bool:
    """Whether two saved models are the same model but for the named parameters.

    Decided by the diagnostics' own comparison of the loaded models (fitted arrays,
    trees, get_params, private state, boosters through their libraries' dumps), told to
    leave out the named parameters under any library's name for them (`n_jobs` is also
    LightGBM's `num_threads`, `random_state` its `seed`) and nothing else.  What that
    comparison cannot see into counts as different, so "the same" is never a guess.
    Not by hashing a re-pickled copy: pickling a loaded model again is not stable (a
    forest gave three digests for one file).  A saved LightGBM, XGBoost or CatBoost
    model is compared through its dump; any other file is the same only if its bytes are.
    """
    from pytest_repro.diagnose.content_kind import ArtifactKind, artifact_kind

    if sha256_file(path_a) == sha256_file(path_b):
        return True
    kind = artifact_kind(path_a, path_b)
    try:
        if kind is ArtifactKind.MODEL:
            return _same_loaded_models(path_a, path_b, ignore_params)
        if kind is ArtifactKind.TREES:
            return _same_tree_models(path_a, path_b, ignore_params)
    except Exception:  # a model that cannot be walked is not known to be the same
        return False
    return False


def _same_loaded_models(path_a: Path, path_b: Path, ignore_params: Collection[str]) -> bool:
    import os

    from pytest_repro.diagnose.model_diff import compare_models
    from pytest_repro.diagnose.model_files import load_models

    # Only this plugin's own fresh training outputs are loaded, as in diagnostics.
    loaded = load_models(path_a, path_b, [os.getcwd()])
    if isinstance(loaded, str):
        return False
    return compare_models(*loaded, max_paths=1, ignored=ignore_params).count == 0


def _same_tree_models(path_a: Path, path_b: Path, ignore_params: Collection[str]) -> bool:
    import numpy

    from pytest_repro.diagnose.boosters import read_tree_model
    from pytest_repro.diagnose.model_walk import objects_differ

    ensembles = [read_tree_model(path) for path in (path_a, path_b)]
    if any(isinstance(ensemble, str) for ensemble in ensembles):
        return False
    return not objects_differ(numpy, ensembles[0], ensembles[1], ignore_params)


def numeric_leaves(value: Any) -> dict[str, list[float]]:
    """Group the finite numbers of a JSON value by the pointer of their metric.

    A list of numbers is one metric (`/cv/fold_roc_auc` holds one number per fold);
    booleans are flags, not numbers, and are left out.
    """
    grouped: dict[str, list[float]] = {}
    _collect_numbers(value, "", grouped)
    return grouped


def _collect_numbers(value: Any, pointer: str, grouped: dict[str, list[float]]) -> None:
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            _collect_numbers(value[key], f"{pointer}/{escape_pointer(str(key))}", grouped)
    elif isinstance(value, list | tuple):
        if value and all(is_number(item) for item in value):
            grouped[pointer or "/"] = [float(item) for item in value]
        else:
            for index, item in enumerate(value):
                _collect_numbers(item, f"{pointer}/{index}", grouped)
    elif is_number(value):
        grouped[pointer or "/"] = [float(value)]


def metric_deltas(a: Any, b: Any) -> dict[str, float]:
    """Return the largest |Δ| of each metric present in both, for the metrics that moved."""
    numbers_a, numbers_b = numeric_leaves(a), numeric_leaves(b)
    deltas = {}
    for pointer in sorted(set(numbers_a) & set(numbers_b)):
        values_a, values_b = numbers_a[pointer], numbers_b[pointer]
        if len(values_a) != len(values_b):
            continue
        largest = max(abs(x - y) for x, y in zip(values_a, values_b, strict=True))
        if largest > 0:
            deltas[pointer] = largest
    return deltas


def without_seed_echo(a: Any, b: Any, seed_a: int, seed_b: int) -> tuple[Any, Any]:
    """Drop the leaves that hold `seed_a` in `a` and `seed_b` at the same place in `b`.

    Training code commonly records its seed in its metrics; two runs with different
    seeds then differ there whether or not anything consumed the seed.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        kept_a, kept_b = {}, {}
        for key in a.keys() | b.keys():
            if key in a and key in b and _is_echo(a[key], b[key], seed_a, seed_b):
                continue
            if key in a and key in b:
                kept_a[key], kept_b[key] = without_seed_echo(a[key], b[key], seed_a, seed_b)
            elif key in a:
                kept_a[key] = a[key]
            else:
                kept_b[key] = b[key]
        return kept_a, kept_b
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = [without_seed_echo(x, y, seed_a, seed_b) for x, y in zip(a, b, strict=True)]
        return [x for x, _ in pairs], [y for _, y in pairs]
    return a, b


def _is_echo(a: Any, b: Any, seed_a: int, seed_b: int) -> bool:
    return _is_int(a) and _is_int(b) and a == seed_a and b == seed_b


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """True for a finite int or float that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


def escape_pointer(token: str) -> str:
    """Escape one JSON-pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")
