"""Fit: load and split the data, cross-validate every model, refit the best, choose its threshold."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pytest_repro import ReproError
from pytest_repro.lineage import read_pinned_dataset
from training.config import Config
from training.data import load_dataset, reorder_rows, split_data
from training.evaluation import (
    choose_threshold,
    cross_validate,
    drift_baseline,
    make_folds,
    positive_scores,
    score_method,
    select_best,
    test_metrics,
)
from training.pipeline import (
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
    build_estimators,
    build_pipeline,
    unseeded_estimators,
)


class UnseededEstimatorError(ReproError):
    """The pipeline about to be saved holds an estimator whose random_state is None."""


@dataclass(frozen=True)
class Fitted:
    """The refit pipeline, the metrics, the drift baseline and the CV folds as dataset row numbers."""

    pipeline: Any
    metrics: dict[str, Any]
    drift: dict[str, Any]
    folds: list[list[int]]
    dataset_sha256: str


def set_global_seed(seed: int) -> None:
    """Seed `random` and numpy's global state: the safety net for code that draws without a random_state."""
    random.seed(seed)
    np.random.seed(seed)


def fit(config: Config, dataset: Path, workers: int, say: Callable[[str], None]) -> Fitted:
    """Train on the pinned dataset; `workers` threads run the CV fits (any count, the same result)."""
    # The bytes parsed are the bytes checked against the pin: a file swapped meanwhile is never trained on.
    data, dataset_sha256 = read_pinned_dataset(dataset)
    set_global_seed(config.seed)
    frame = reorder_rows(load_dataset(data, config.data.path, config.data.target))
    x_train, x_test, y_train, y_test = split_data(frame, config)
    say(f"loaded {len(frame)} rows from {config.data.path}: {len(x_train)} train, {len(x_test)} test")
    folds = make_folds(y_train, config)
    pipelines = {name: build_pipeline(config, model) for name, model in build_estimators(config).items()}
    results = cross_validate(pipelines, x_train, y_train, folds, workers)
    for name, result in results.items():
        say(f"[{name}] CV ROC AUC {result['mean_roc_auc']:.4f} ± {result['std_roc_auc']:.4f}")
    best = select_best(results)
    say(f"best model by mean CV ROC AUC: {best}; refitting")
    pipeline = build_pipeline(config, build_estimators(config)[best]).fit(x_train, y_train)
    unseeded = unseeded_estimators(pipeline)
    if unseeded:
        raise UnseededEstimatorError(
            f"refusing to save a model with random_state None at: {', '.join(unseeded)}"
        )
    threshold = choose_threshold(y_train, results[best]["oof_scores"], config.business.target_precision)
    method = score_method(pipeline)
    test_scores = positive_scores(getattr(pipeline, method)(x_test))
    metrics = {
        "selected_model": best,
        "score_kind": "probability" if method == "predict_proba" else "decision",
        "cv": {name: {k: v for k, v in r.items() if k != "oof_scores"} for name, r in results.items()},
        "threshold": threshold,
        "test": test_metrics(y_test, test_scores, threshold["value"]),
        "data": {"rows": len(frame), "train_rows": len(x_train), "test_rows": len(x_test)},
        "seed": config.seed,
    }
    features = pipeline.named_steps["features"].transform(x_train)
    rows = x_train.index.to_numpy()
    return Fitted(
        pipeline=pipeline,
        metrics=metrics,
        drift=drift_baseline(features, NUMERIC_FEATURES, CATEGORICAL_FEATURES),
        folds=[sorted(int(r) for r in rows[valid]) for _, valid in folds],
        dataset_sha256=dataset_sha256,
    )
