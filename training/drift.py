"""Statistics of the training features, saved so later data can be checked for drift.

The baseline is plain data (str keys, Python ints, floats and None) in a fixed order,
so it serialises to the same JSON bytes whenever the training rows are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

QUANTILES: tuple[tuple[str, float], ...] = (
    ("q01", 0.01),
    ("q05", 0.05),
    ("q25", 0.25),
    ("q50", 0.50),
    ("q75", 0.75),
    ("q95", 0.95),
    ("q99", 0.99),
)


def drift_baseline(
    features: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, Any]:
    """Summarise each feature's distribution, as the reference a drift check compares against.

    Numeric features: count of observed values, missing_rate, mean, std (population,
    ddof=0), min, max and the quantiles q01…q99 (linear interpolation); all None when
    nothing is observed.  Categorical features: count, missing_rate, and the frequency
    of each category as a fraction of the observed values, keyed by category text in
    sorted order.  Features appear in the order given.
    """
    absent = [c for c in (*numeric, *categorical) if c not in features.columns]
    if absent:
        raise ValueError(f"drift_baseline: features lack column(s) {absent}")
    n_rows = len(features)
    return {
        "n_rows": int(n_rows),
        "numeric": {name: _numeric_summary(features[name], n_rows) for name in numeric},
        "categorical": {name: _categorical_summary(features[name], n_rows) for name in categorical},
    }


def _numeric_summary(column: pd.Series, n_rows: int) -> dict[str, Any]:
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    observed = values[~np.isnan(values)]
    summary: dict[str, Any] = {
        "count": int(observed.size),
        "missing_rate": _rate(n_rows - observed.size, n_rows),
    }
    if observed.size == 0:
        summary.update(dict.fromkeys(("mean", "std", "min", "max")))
        summary.update(dict.fromkeys(key for key, _ in QUANTILES))
        return summary
    summary.update(
        mean=float(np.mean(observed)),
        std=float(np.std(observed)),
        min=float(np.min(observed)),
        max=float(np.max(observed)),
    )
    levels = np.quantile(observed, [q for _, q in QUANTILES])
    summary.update({key: float(level) for (key, _), level in zip(QUANTILES, levels, strict=True)})
    return summary


def _categorical_summary(column: pd.Series, n_rows: int) -> dict[str, Any]:
    observed = column[column.notna()].astype(str)
    counts = observed.value_counts(sort=False)
    total = int(counts.sum())
    frequencies = {str(k): int(v) / total for k, v in sorted(counts.items())}
    return {
        "count": total,
        "missing_rate": _rate(n_rows - total, n_rows),
        "frequencies": frequencies,
    }


def _rate(part: int, whole: int) -> float:
    return float(part) / whole if whole else 0.0
