"""The demo's config strategies: the plugin's generic ones, given the demo's schema and fixed names.

`pytest_repro.strategies` draws configs of any schema; this module adds what only the
demo knows: its schema (`training.config.Config`), the free-text values of the shipped
`config.yaml` (`SHIPPED_STRINGS`, held fixed, never drawn), models chosen by name, and
caps on the settings that make a training slow (`max_estimators`, `max_splits`,
`max_iter`, `max_neighbors`), so that a fuzzed training stays cheap::

    cheap = valid_configs(
        data_path="sample.csv",
        max_estimators=5, max_splits=3, max_iter=50, max_neighbors=10,
        bounds={"data.test_size": (0.1, 0.5), "models.svm.C": (None, 10.0)},
    )

Only the fuzz tests import this module, and with it hypothesis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from pytest_repro import strategies
from training.config import Config

__all__ = ["SHIPPED_STRINGS", "invalid_configs", "valid_configs", "valid_values"]

Bounds = Mapping[str, tuple[float | None, float | None]]

# The free-text leaves of the shipped config.yaml.  They are held fixed, never drawn: a
# random data.path names no file, and random artifact names only test the file system.
SHIPPED_STRINGS: Mapping[str, str] = {
    "data.path": "ml_datasource.csv",
    "data.target": "purchased",
    "artifacts.model_dir": "artifacts",
    "artifacts.model_file": "best_model.joblib",
    "artifacts.threshold_file": "threshold.txt",
    "artifacts.metrics_file": "metrics.json",
    "artifacts.drift_baseline_file": "drift_baseline.json",
    "artifacts.lineage_file": "lineage.json",
}

# The leaf each cap of `valid_configs` narrows: what makes a training slow.
_CAPS = {
    "max_estimators": "models.random_forest.n_estimators",
    "max_splits": "cv.n_splits",
    "max_iter": "models.logistic_regression.max_iter",
    "max_neighbors": "models.knn.n_neighbors",
}


def valid_values(key: str, *, low: float | None = None, high: float | None = None) -> st.SearchStrategy[Any]:
    """Draw values the demo's schema allows for one dotted leaf key, e.g. `valid_values("seed")`."""
    return strategies.valid_values(Config, key, low=low, high=high)


def valid_configs(
    *,
    data_path: str = SHIPPED_STRINGS["data.path"],
    target: str = SHIPPED_STRINGS["data.target"],
    models: Sequence[str] | None = None,
    max_estimators: int | None = None,
    max_splits: int | None = None,
    max_iter: int | None = None,
    max_neighbors: int | None = None,
    bounds: Bounds | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Draw raw demo configs that `demo_config_yaml.validate_config` accepts.

    Which models are present is drawn (at least one, from `models` when given, by name);
    `data_path`, `target` and the artifact names of the shipped config are fixed.  The
    caps narrow the slow settings; `bounds` and `fixed` are those of
    `pytest_repro.strategies.valid_configs`, and every narrowing only narrows.
    """
    caps = {
        "max_estimators": max_estimators,
        "max_splits": max_splits,
        "max_iter": max_iter,
        "max_neighbors": max_neighbors,
    }
    return strategies.valid_configs(Config, **_arguments(data_path, target, models, caps, bounds, fixed))


def invalid_configs(
    *,
    data_path: str = SHIPPED_STRINGS["data.path"],
    target: str = SHIPPED_STRINGS["data.target"],
    models: Sequence[str] | None = None,
    max_estimators: int | None = None,
    max_splits: int | None = None,
    max_iter: int | None = None,
    max_neighbors: int | None = None,
    bounds: Bounds | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """Draw `(raw_config, dotted_key)`: a demo config breaking one rule, and the key to blame.

    The arguments are those of `valid_configs`; see `pytest_repro.strategies.invalid_configs`
    for what is broken.
    """
    caps = {
        "max_estimators": max_estimators,
        "max_splits": max_splits,
        "max_iter": max_iter,
        "max_neighbors": max_neighbors,
    }
    return strategies.invalid_configs(Config, **_arguments(data_path, target, models, caps, bounds, fixed))


def _arguments(
    data_path: str,
    target: str,
    models: Sequence[str] | None,
    caps: Mapping[str, int | None],
    bounds: Bounds | None,
    fixed: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Translate the demo's arguments into those of the plugin's generic strategies."""
    merged: dict[str, tuple[float | None, float | None]] = dict(bounds or {})
    for argument, cap in caps.items():
        if cap is not None:
            key = _CAPS[argument]
            low, high = merged.get(key, (None, None))
            merged[key] = (low, cap if high is None else min(high, cap))
    if isinstance(models, str):
        models = [models]
    return {
        "fixed": {**SHIPPED_STRINGS, "data.path": data_path, "data.target": target, **(fixed or {})},
        "bounds": merged,
        "sections": None if models is None else [f"models.{name}" for name in models],
    }
