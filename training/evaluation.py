"""Cross-validation, model choice, the decision threshold, test metrics and the drift baseline.

Each (model, fold) pair is fitted once, the pairs side by side in joblib's worker processes;
the out-of-fold scores give both each fold's ROC AUC and the scores the threshold is
chosen on.  Everything returned is plain Python data, so it serialises to the same
JSON bytes whenever the inputs are the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold

from pytest_repro.errors import DatasetError
from training.config import Config

QUANTILES = {"q01": 0.01, "q05": 0.05, "q25": 0.25, "q50": 0.50, "q75": 0.75, "q95": 0.95, "q99": 0.99}


def make_folds(y_train: Any, config: Config) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded stratified folds as positional (train, validation) indices; a too-small dataset is a DatasetError."""
    y = np.asarray(y_train)
    n_splits = config.cv.n_splits
    for label in (0, 1):
        count = int((y == label).sum())
        if count < n_splits:
            raise DatasetError(
                f"{config.data.path}: cv.n_splits is {n_splits} but the training split holds {count} row(s) of "
                f"class {label}; every fold needs both classes: lower cv.n_splits or data.test_size, or use more data"
            )
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=config.seed)
    folds = list(splitter.split(np.zeros(len(y)), y))
    smallest = min(len(train) for train, _ in folds)
    knn = config.models.knn
    if knn is not None and knn.n_neighbors > smallest:
        raise DatasetError(
            f"{config.data.path}: models.knn.n_neighbors is {knn.n_neighbors} but a cross-validation fold "
            f"trains on {smallest} rows; lower it or use more data"
        )
    return folds


def score_method(pipeline: Any) -> str:
    """How a model scores the positive class: predict_proba when it has it, else decision_function (SVC)."""
    return "predict_proba" if hasattr(pipeline, "predict_proba") else "decision_function"


def positive_scores(scores: np.ndarray) -> np.ndarray:
    """The positive class's column of predict_proba, or decision_function's values as they are."""
    return np.asarray(scores[:, 1] if scores.ndim == 2 else scores, dtype=np.float64)


def cross_validate(pipelines: dict[str, Any], X: Any, y: Any, folds: list, n_jobs: int) -> dict[str, dict]:
    """Fit one clone per (model, fold) pair, `n_jobs` at a time; any count gives the same result.

    Returns, by model, the fold ROC AUCs, their mean and population std, and the
    out-of-fold scores (row i scored by the fold model that did not see it).
    """
    pairs = [(name, train, valid) for name in pipelines for train, valid in folds]
    # Threads, not processes: each fit is a clone of its own (the same result for any count), the
    # caller's one-BLAS-thread limit holds for all of them, and a killed training leaves no worker.
    scores = Parallel(n_jobs=n_jobs, backend="threading")(
        delayed(_fit_and_score)(pipelines[name], X, y, train, valid) for name, train, valid in pairs
    )
    y = np.asarray(y)
    results = {}
    for name in pipelines:
        oof = np.full(len(y), np.nan)
        for (model, _, valid), fold_scores in zip(pairs, scores, strict=True):
            if model == name:
                oof[valid] = fold_scores
        aucs = [float(roc_auc_score(y[valid], oof[valid])) for _, valid in folds]
        results[name] = {
            "fold_roc_auc": aucs,
            "mean_roc_auc": float(np.mean(aucs)),
            "std_roc_auc": float(np.std(aucs)),
            "oof_scores": oof,
        }
    return results


def _fit_and_score(pipeline: Any, X: Any, y: Any, train: np.ndarray, valid: np.ndarray) -> np.ndarray:
    model = clone(pipeline).fit(X.iloc[train], y.iloc[train])
    return positive_scores(getattr(model, score_method(model))(X.iloc[valid]))


def select_best(results: dict[str, dict[str, Any]]) -> str:
    """Name the model with the highest mean CV ROC AUC; on a tie the one listed first wins."""
    return max(results, key=lambda name: (results[name]["mean_roc_auc"], -list(results).index(name)))


def choose_threshold(y_true: Any, scores: Any, target_precision: float) -> dict[str, Any]:
    """The lowest threshold whose precision reaches the target (so recall is as high as allowed).

    A row is positive when its score is ≥ the threshold.  When no threshold reaches the
    target, the one with the highest precision (the lowest of equals), target_met False.
    """
    precision, recall, thresholds = precision_recall_curve(y_true, scores)
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


def test_metrics(y_true: Any, scores: Any, threshold: float) -> dict[str, Any]:
    """Measure the chosen model on held-out rows; roc_auc and pr_auc are None for a single class."""
    y = np.asarray(y_true).astype(np.int64)
    s = np.asarray(scores, dtype=np.float64)
    predicted = (s >= threshold).astype(np.int64)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, predicted, labels=[0, 1]).ravel())
    both = np.unique(y).size == 2
    return {
        "threshold": float(threshold),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, s)) if both else None,
        "pr_auc": float(average_precision_score(y, s)) if both else None,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "support": {"negative": int((y == 0).sum()), "positive": int((y == 1).sum())},
        "n": int(y.size),
    }


test_metrics.__test__ = False  # type: ignore[attr-defined]  # not a test, whatever its name


def drift_baseline(
    features: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]
) -> dict[str, Any]:
    """Summarise each training feature, the reference a later drift check compares against.

    Numeric: count, missing_rate, mean, std (ddof=0), min, max, q01…q99 (all None when
    nothing is observed).  Categorical: count, missing_rate and each category's share of
    the observed values, in sorted order.
    """
    n = len(features)
    summary: dict[str, Any] = {"n_rows": n, "numeric": {}, "categorical": {}}
    for name in numeric:
        values = features[name].to_numpy(dtype="float64", na_value=np.nan)
        seen = values[~np.isnan(values)]
        stats: dict[str, Any] = {"count": int(seen.size), "missing_rate": (n - seen.size) / n if n else 0.0}
        keys = ("mean", "std", "min", "max", *QUANTILES)
        if seen.size:
            levels = np.quantile(seen, list(QUANTILES.values()))
            stats.update(
                zip(keys, map(float, (seen.mean(), seen.std(), seen.min(), seen.max(), *levels)), strict=True)
            )
        else:
            stats.update(dict.fromkeys(keys))
        summary["numeric"][name] = stats
    for name in categorical:
        counts = features[name].dropna().astype(str).value_counts(sort=False)
        total = int(counts.sum())
        summary["categorical"][name] = {
            "count": total,
            "missing_rate": (n - total) / n if n else 0.0,
            "frequencies": {str(k): int(v) / total for k, v in sorted(counts.items())},
        }
    return summary
