"""Fit: cross-validate every model, refit the best, choose its threshold, measure it on the test split."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import parallel_backend
from sklearn import metrics as sk
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from pytest_repro import ReproError
from pytest_repro.errors import DatasetError
from pytest_repro.lineage import read_pinned_dataset
from training.config import Config
from training.data import load_dataset, reorder_rows, split_data
from training.pipeline import CATEGORICAL_FEATURES, NUMERIC_FEATURES, build_estimators, build_pipeline

QUANTILES = {"q01": 0.01, "q05": 0.05, "q25": 0.25, "q50": 0.50, "q75": 0.75, "q95": 0.95, "q99": 0.99}


class UnseededError(ReproError):
    """A CV splitter or the model about to be saved draws random numbers without a seed."""


@dataclass(frozen=True)
class Fitted:
    """The refit pipeline, the metrics, the drift baseline and the CV folds as dataset row numbers."""

    pipeline: Any
    metrics: dict[str, Any]
    drift: dict[str, Any]
    folds: list[list[int]]
    dataset_sha256: str


def refuse_unseeded(**parts: Any) -> None:
    """Refuse, naming its path `a__b`, a random_state of None or a shuffling splitter's non-integer one."""
    found = set()
    for name, part in parts.items():
        params = {f"{name}__{key}": value for key, value in getattr(part, "get_params", dict)().items()}
        for path, value in {name: part, **params}.items():
            seeded = isinstance(getattr(value, "random_state", None), Integral)
            if path.endswith("__random_state") and value is None:
                found.add(path)
            elif getattr(value, "shuffle", False) is True and not seeded:
                found.add(f"{path}__random_state")
    if found:
        raise UnseededError(f"refusing to train or save an unseeded random_state: {', '.join(sorted(found))}")


def fit(config: Config, dataset: Path, workers: int, say: Callable[[str], None]) -> Fitted:
    """Train on the pinned dataset; `workers` threads run the CV fits (any count, the same result)."""
    # The bytes parsed are the bytes checked against the pin: a file swapped meanwhile is never trained on.
    data, dataset_sha256 = read_pinned_dataset(dataset)
    random.seed(config.seed)  # the global generators: a safety net for code that draws without a random_state
    np.random.seed(config.seed)
    frame = reorder_rows(load_dataset(data, config.data.path, config.data.target))
    x_train, x_test, y_train, y_test = split_data(frame, config)
    say(f"loaded {len(frame)} rows from {config.data.path}: {len(x_train)} train, {len(x_test)} test")
    folds = make_folds(y_train, config)
    pipelines = {name: build_pipeline(config, model) for name, model in build_estimators(config).items()}
    refuse_unseeded(**pipelines)
    results, oof = {}, {}
    for name, pipeline in pipelines.items():
        results[name], oof[name] = cross_validate(pipeline, x_train, y_train, folds, workers)
        say(f"[{name}] CV ROC AUC {results[name]['mean_roc_auc']:.4f} ± {results[name]['std_roc_auc']:.4f}")
    # The best mean CV ROC AUC wins; on a tie, the model listed first.  CV fitted clones: refit the original.
    best = max(results, key=lambda name: (results[name]["mean_roc_auc"], -list(results).index(name)))
    pipeline = pipelines[best].fit(x_train, y_train)
    threshold = choose_threshold(y_train, oof[best], config.business.target_precision)
    method = score_method(pipeline)
    test_scores = positive_column(getattr(pipeline, method)(x_test))
    metrics = {
        "selected_model": best,
        "score_kind": "probability" if method == "predict_proba" else "decision",
        "cv": results,
        "threshold": threshold,
        "test": holdout_metrics(y_test, test_scores, threshold["value"]),
        "data": {"rows": len(frame), "train_rows": len(x_train), "test_rows": len(x_test)},
        "seed": config.seed,
    }
    drift = drift_baseline(pipeline.named_steps["features"].transform(x_train))
    rows = x_train.index.to_numpy()
    fold_rows = [sorted(int(r) for r in rows[valid]) for _, valid in folds]
    return Fitted(pipeline, metrics, drift, fold_rows, dataset_sha256)


def make_folds(y_train: Any, config: Config) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded stratified folds as positional (train, validation) indices; too little data is a DatasetError."""
    y, n_splits = np.asarray(y_train), config.cv.n_splits
    for label in (0, 1):
        if (count := int((y == label).sum())) < n_splits:
            raise DatasetError(
                f"{config.data.path}: cv.n_splits is {n_splits} but the training split holds {count} row(s) of "
                f"class {label}; every fold needs both classes: lower cv.n_splits or data.test_size, or use more data"
            )
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=config.seed)
    refuse_unseeded(cv=splitter)
    folds = list(splitter.split(np.zeros(len(y)), y))
    smallest = min(len(train) for train, _ in folds)
    if config.models.knn is not None and config.models.knn.n_neighbors > smallest:
        raise DatasetError(
            f"{config.data.path}: models.knn.n_neighbors is {config.models.knn.n_neighbors} but a "
            f"cross-validation fold trains on {smallest} rows; lower it or use more data"
        )
    return folds


def score_method(model: Any) -> str:
    """How a model scores the positive class: predict_proba when it has it, else decision_function (SVC)."""
    return "predict_proba" if hasattr(model, "predict_proba") else "decision_function"


def positive_column(scores: np.ndarray) -> np.ndarray:
    """The positive class's column of predict_proba, or decision_function's values as they are."""
    return np.asarray(scores[:, 1] if scores.ndim == 2 else scores, dtype=np.float64)


def cross_validate(pipeline: Any, X: Any, y: Any, folds: list, workers: int) -> tuple[dict, np.ndarray]:
    """Return the fold ROC AUCs with their mean and population std, and the out-of-fold scores.

    Threads, not processes: each fits its own clone (any count, the same result), the caller's
    one-BLAS-thread limit holds for all, and a killed training leaves no worker behind.
    """
    with parallel_backend("threading"):
        scores = cross_val_predict(pipeline, X, y, cv=folds, method=score_method(pipeline), n_jobs=workers)
    oof, y = positive_column(scores), np.asarray(y)
    aucs = [float(sk.roc_auc_score(y[valid], oof[valid])) for _, valid in folds]
    summary = {"fold_roc_auc": aucs, "mean_roc_auc": float(np.mean(aucs)), "std_roc_auc": float(np.std(aucs))}
    return summary, oof


def choose_threshold(y_true: Any, scores: Any, target_precision: float) -> dict[str, Any]:
    """The lowest threshold (score ≥ it is positive) reaching the target precision, else the most precise."""
    precision, recall, thresholds = sk.precision_recall_curve(y_true, scores)
    precision, recall = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    qualifying = np.flatnonzero(precision >= target_precision)
    index = int(qualifying[0]) if qualifying.size else int(np.argmax(precision))
    return {
        "value": float(thresholds[index]),
        "target_precision": target_precision,
        "target_met": bool(qualifying.size),
        "oof_precision": float(precision[index]),
        "oof_recall": float(recall[index]),
        "chosen_on": "out-of-fold scores of the training split",
    }


def holdout_metrics(y_true: Any, scores: Any, threshold: float) -> dict[str, Any]:
    """Measure the chosen model on held-out rows; roc_auc and pr_auc are None for a single class."""
    y, s = np.asarray(y_true).astype(np.int64), np.asarray(scores, dtype=np.float64)
    predicted = (s >= threshold).astype(np.int64)
    tn, fp, fn, tp = (int(v) for v in sk.confusion_matrix(y, predicted, labels=[0, 1]).ravel())
    both = np.unique(y).size == 2
    return {
        "threshold": float(threshold),
        "precision": float(sk.precision_score(y, predicted, zero_division=0)),
        "recall": float(sk.recall_score(y, predicted, zero_division=0)),
        "f1": float(sk.f1_score(y, predicted, zero_division=0)),
        "roc_auc": float(sk.roc_auc_score(y, s)) if both else None,
        "pr_auc": float(sk.average_precision_score(y, s)) if both else None,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "support": {"negative": int((y == 0).sum()), "positive": int((y == 1).sum())},
        "n": int(y.size),
    }


def drift_baseline(features: pd.DataFrame) -> dict[str, Any]:
    """Summarise each training feature (count, missing rate, moments and quantiles, or category shares)."""
    n = len(features)
    summary: dict[str, Any] = {"n_rows": n, "numeric": {}, "categorical": {}}
    for name in NUMERIC_FEATURES:
        values = features[name].to_numpy(dtype="float64", na_value=np.nan)
        seen = values[~np.isnan(values)]
        stats = dict.fromkeys(("mean", "std", "min", "max", *QUANTILES))
        if seen.size:
            levels = np.quantile(seen, list(QUANTILES.values()))
            numbers = map(float, (seen.mean(), seen.std(), seen.min(), seen.max(), *levels))
            stats = dict(zip(stats, numbers, strict=True))
        missing_rate = (n - seen.size) / n if n else 0.0
        summary["numeric"][name] = {"count": int(seen.size), "missing_rate": missing_rate, **stats}
    for name in CATEGORICAL_FEATURES:
        counts = features[name].dropna().astype(str).value_counts(sort=False)
        total = int(counts.sum())
        summary["categorical"][name] = {
            "count": total,
            "missing_rate": (n - total) / n if n else 0.0,
            "frequencies": {str(k): int(v) / total for k, v in sorted(counts.items())},
        }
    return summary
