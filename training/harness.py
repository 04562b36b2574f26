"""Knobs that a reproducibility harness sets through the environment, read here and nowhere else.

pytest-repro's `repro-vary` (and `pytest --repro --repro-vary`) retrains under varied
conditions; two of them need the training's cooperation, so its entry-point
contract names two environment variables:

- `REPRO_N_JOBS`: the `n_jobs` given to every estimator that takes one (default 1).
  Varying it must not change the result; a model whose output depends on it is not
  reproducible across machines with different core counts.
- `REPRO_ROW_ORDER_SEED`: when set, the dataset's rows are fed to the pipeline in the
  order of `numpy.random.default_rng(seed).permutation(rows)`, each row keeping its row
  number, right after the (pinned, unchanged) file is read.  A model may legitimately
  depend on row order, so the harness reports how far the metrics move instead of
  failing.

Unset, neither changes anything: a plain training reads the file in order with n_jobs 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pandas as pd

from pytest_repro.contract import N_JOBS_VARIABLE, ROW_ORDER_VARIABLE, SEED_MAX, SEED_RANGE_TEXT
from pytest_repro.errors import ConfigError, Problem


def n_jobs(environ: Mapping[str, str] | None = None) -> int:
    """Return the n_jobs estimators get: `REPRO_N_JOBS` when set (a positive integer or -1), else 1."""
    text = (os.environ if environ is None else environ).get(N_JOBS_VARIABLE, "").strip()
    if not text:
        return 1
    value = _integer(N_JOBS_VARIABLE, text, "a positive integer or -1 (all cores)")
    if value == 0 or value < -1:
        raise _problem(N_JOBS_VARIABLE, text, "a positive integer or -1 (all cores)")
    return value


def row_order_seed(environ: Mapping[str, str] | None = None) -> int | None:
    """Return the seed of the row permutation asked for by `REPRO_ROW_ORDER_SEED`, or None."""
    text = (os.environ if environ is None else environ).get(ROW_ORDER_VARIABLE, "").strip()
    if not text:
        return None
    value = _integer(ROW_ORDER_VARIABLE, text, SEED_RANGE_TEXT)
    if not 0 <= value <= SEED_MAX:
        raise _problem(ROW_ORDER_VARIABLE, text, SEED_RANGE_TEXT)
    return value


def reorder_rows(frame: pd.DataFrame, seed: int | None) -> pd.DataFrame:
    """Return the rows in the order of a permutation drawn with `seed` (unchanged for None).

    Row labels travel with their rows, so folds and test rows are still reported as
    row numbers of the file.
    """
    if seed is None:
        return frame
    import numpy as np

    return frame.iloc[np.random.default_rng(seed).permutation(len(frame))]


def _integer(variable: str, text: str, allowed: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise _problem(variable, text, allowed) from None


def _problem(variable: str, text: str, allowed: str) -> ConfigError:
    return ConfigError([Problem("<environment>", variable, f"got {text!r}; expected {allowed}")])
