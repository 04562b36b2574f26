"""Cross-validation, model selection, threshold choice and test metrics, as pure functions.

Cross-validation makes one pass over seeded stratified folds; each fold's clone is
fitted once and yields both the fold's ROC AUC and its out-of-fold scores, which the
decision threshold is then chosen on.  Results hold no timings, so two runs with one
seed produce equal results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
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

if TYPE_CHECKING:
    from training.schema import Config

PROBABILITY = "probability"
DECISION = "decision"

Fold = tuple[np.ndarray, np.ndarray]
FoldCallback = Callable[[str, int, int, float, float], None]


def make_folds(y_train: Any, config: Config) -> list[Fold]:
    """Split training rows into seeded stratified folds, as positional (train, validation) indices.

    A config that the data is too small for (more folds than rows of a class, more
    neighbours than a fold trains on) is a DatasetError naming the key, not a
    scikit-learn traceback half-way through cross-validation.
    """
    y = np.asarray(y_train)
    n_splits = config.cv.n_splits
    for label in (0, 1):
        count = int((y == label).sum())
        if count < n_splits:
            raise DatasetError(
                f"{config.data.path}: cv.n_splits is {n_splits} but the training split holds "
                f"{count} row(s) of class {label}; "
                "every fold needs both classes: lower cv.n_splits or data.test_size, or use more data"
            )
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=config.seed)
    folds = [(train, valid) for train, valid in splitter.split(np.zeros(len(y)), y)]
    knn = config.models.knn
    smallest = min(len(train) for train, _ in folds)
    if knn is not None and knn.n_neighbors > smallest:
        raise DatasetError(
            f"{config.data.path}: models.knn.n_neighbors is {knn.n_neighbors} but a cross-validation fold trains on "
            f"{smallest} rows; lower it or use more data"
        )
    return folds


def score(pipeline: Any, X: Any) -> tuple[np.ndarray, str]:
    """Score rows for the positive class, preferring probabilities and falling back to decision values.

    Returns the scores and their kind, "probability" (predict_proba[:, 1]) or
    "decision" (decision_function, e.g. SVC without probability calibration).
    """
    if hasattr(pipeline, "predict_proba"):
        return np.asarray(pipeline.predict_proba(X))[:, 1].astype(np.float64), PROBABILITY
    if hasattr(pipeline, "decision_function"):
        return np.asarray(pipeline.decision_function(X)).astype(np.float64).ravel(), DECISION
    raise TypeError(f"{type(pipeline).__name__} has neither predict_proba nor decision_function")


@dataclass(frozen=True)
class CvResult:
    """One model's cross-validation outcome, kept to select a model and choose its threshold.

    `oof_scores[i]` is the score of training row i from the fold model that did not
    see it; the array is read-only.  `std` is the population standard deviation of the
    fold scores.
    """

    name: str
    fold_scores: tuple[float, ...]
    mean: float
    std: float
    oof_scores: np.ndarray
    score_kind: str

    def __post_init__(self) -> None:
        scores = np.array(self.oof_scores, dtype=np.float64, copy=True)
        scores.setflags(write=False)
        object.__setattr__(self, "oof_scores", scores)
        object.__setattr__(self, "fold_scores", tuple(float(s) for s in self.fold_scores))

    # Written out because the generated ones would compare and hash the array elementwise.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CvResult):
            return NotImplemented
        return self._plain_fields() == other._plain_fields() and np.array_equal(
            self.oof_scores, other.oof_scores, equal_nan=True
        )

    def __hash__(self) -> int:
        # Leaving the array out keeps hashing consistent with __eq__ (0.0 == -0.0, NaN == NaN).
        return hash(self._plain_fields())

    def _plain_fields(self) -> tuple[Any, ...]:
        return (self.name, self.fold_scores, self.mean, self.std, self.score_kind)


def cross_validate_model(
    name: str,
    pipeline: Any,
    X: Any,
    y: Any,
    folds: Sequence[Fold],
    on_fold: FoldCallback | None = None,
) -> CvResult:
    """Cross-validate one model in this process (see `cross_validate_models`)."""
    return cross_validate_models({name: pipeline}, X, y, folds, workers=1, on_fold=on_fold)[name]


@dataclass(frozen=True)
class FoldTask:
    """One (model, fold) pair of cross-validation: everything a worker needs to fit and score it."""

    name: str
    k: int
    pipeline: Any
    X: Any
    y: Any
    train: np.ndarray
    valid: np.ndarray
    seed: int | None


@dataclass(frozen=True)
class FoldOutcome:
    """What one fold's clone produced: its validation scores, their kind, its ROC AUC and wall time."""

    scores: np.ndarray
    kind: str
    roc_auc: float
    seconds: float


def fit_fold(task: FoldTask) -> FoldOutcome:
    """Fit a clone on the fold's training rows and score its validation rows.

    The global generators are reseeded first, so a library that draws from them sees
    the same stream whichever worker runs the task and whatever ran there before.
    """
    started = time.perf_counter()
    if task.seed is not None:
        from training.seeding import set_global_seed

        set_global_seed(task.seed)
    model = clone(task.pipeline).fit(_rows(task.X, task.train), _rows(task.y, task.train))
    scores, kind = score(model, _rows(task.X, task.valid))
    roc_auc = float(roc_auc_score(np.asarray(task.y)[task.valid], scores))
    return FoldOutcome(scores, kind, roc_auc, time.perf_counter() - started)


def cross_validate_models(
    pipelines: Mapping[str, Any],
    X: Any,
    y: Any,
    folds: Sequence[Fold],
    *,
    workers: int = 1,
    seed: int | None = None,
    on_fold: FoldCallback | None = None,
) -> dict[str, CvResult]:
    """Fit one clone per (model, fold) pair and collect each fold's ROC AUC and out-of-fold scores.

    The pairs run in `workers` processes (`training.parallel`); their results are taken
    in the order of the models and then the folds, so the CV results are the same
    bytes for any worker count.  `on_fold(name, k, n, fold_auc, seconds)` is called
    as each fold finishes (k from 1), for progress reporting: in that order with one
    worker, in the order they finish with more.  The seconds are not kept anywhere
    else.  The folds must cover every row exactly once as a validation row.  `seed`
    reseeds the global generators before each fit.
    """
    from training.parallel import run_tasks

    n_rows = len(np.asarray(y))
    _check_folds_partition(folds, n_rows)
    tasks = [
        FoldTask(name, k, pipeline, X, y, train, valid, seed)
        for name, pipeline in pipelines.items()
        for k, (train, valid) in enumerate(folds, start=1)
    ]

    def report(index: int, outcome: FoldOutcome) -> None:
        if on_fold is not None:
            task = tasks[index]
            on_fold(task.name, task.k, len(folds), outcome.roc_auc, outcome.seconds)

    outcomes: dict[str, list[FoldOutcome]] = {name: [] for name in pipelines}
    finished = run_tasks(fit_fold, tasks, workers, group=lambda task: task.name, on_result=report)
    for task, outcome in zip(tasks, finished, strict=True):
        outcomes[task.name].append(outcome)
    return {name: _cv_result(name, outcomes[name], folds, n_rows) for name in pipelines}


def _cv_result(name: str, outcomes: Sequence[FoldOutcome], folds: Sequence[Fold], n_rows: int) -> CvResult:
    oof = np.full(n_rows, np.nan)
    for (_, valid), outcome in zip(folds, outcomes, strict=True):
        oof[valid] = outcome.scores
    kinds = {outcome.kind for outcome in outcomes}
    if len(kinds) != 1:
        raise ValueError(f"{name}: folds produced different score kinds {sorted(kinds)}")
    fold_scores = [outcome.roc_auc for outcome in outcomes]
    return CvResult(
        name=name,
        fold_scores=tuple(fold_scores),
        mean=float(np.mean(fold_scores)),
        std=float(np.std(fold_scores)),
        oof_scores=oof,
        score_kind=kinds.pop(),
    )


def _check_folds_partition(folds: Sequence[Fold], n_rows: int) -> None:
    if not folds:
        raise ValueError("cross-validation needs at least one fold")
    seen = np.zeros(n_rows, dtype=np.int64)
    for _, valid in folds:
        np.add.at(seen, np.asarray(valid), 1)
    if not (seen == 1).all():
        bad = int((seen != 1).sum())
        raise ValueError(
            f"folds must use every row exactly once for validation; {bad} of {n_rows} rows do not"
        )


def _rows(data: Any, index: np.ndarray) -> Any:
    # Positional selection for frames and series alike, keeping their column names.
    return data.iloc[index] if hasattr(data, "iloc") else np.asarray(data)[index]


def select_best(results: Mapping[str, CvResult]) -> str:
    """Name the model with the highest mean CV ROC AUC; on a tie the one listed first wins."""
    best_name: str | None = None
    best_mean = -math.inf
    for name, result in results.items():
        # Strictly greater, so an equal later model never displaces an earlier one.
        if result.mean > best_mean:
            best_name, best_mean = name, result.mean
    if best_name is None:
        raise ValueError("select_best needs at least one result with a numeric mean ROC AUC")
    return best_name


@dataclass(frozen=True)
class ThresholdChoice:
    """The decision threshold and what it achieves on the out-of-fold scores."""

    threshold: float
    precision: float
    recall: float
    target_met: bool


def choose_threshold(y_true: Any, scores: Any, target_precision: float) -> ThresholdChoice:
    """Pick the lowest threshold reaching the target precision, so recall is as high as allowed.

    A row is predicted positive when its score is ≥ the threshold (the
    precision_recall_curve convention).  When no threshold reaches the target, the one
    with the highest precision is returned (the lowest of equals) with target_met False.
    """
    precision, recall, thresholds = precision_recall_curve(y_true, scores)
    # The curve's last point (precision 1, recall 0) has no threshold; leave it out.
    precision, recall = precision[:-1], recall[:-1]
    qualifying = np.flatnonzero(precision >= target_precision)
    # thresholds ascend, so the first index is the lowest threshold.
    met = qualifying.size > 0
    index = int(qualifying[0]) if met else int(np.argmax(precision))
    return ThresholdChoice(
        threshold=float(thresholds[index]),
        precision=float(precision[index]),
        recall=float(recall[index]),
        target_met=bool(met),
    )


def test_metrics(y_true: Any, scores: Any, threshold: float) -> dict[str, Any]:
    """Measure the chosen model on held-out rows, as plain Python values ready for JSON.

    Labels are 0/1 with 1 the positive class; a row is positive when score ≥ threshold.
    roc_auc and pr_auc are None when the rows hold a single class (they are undefined).
    """
    y = np.asarray(y_true).astype(np.int64)
    s = np.asarray(scores, dtype=np.float64)
    predicted = (s >= threshold).astype(np.int64)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, predicted, labels=[0, 1]).ravel())
    both_classes = np.unique(y).size == 2
    return {
        "threshold": float(threshold),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, s)) if both_classes else None,
        "pr_auc": float(average_precision_score(y, s)) if both_classes else None,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "support": {"negative": int((y == 0).sum()), "positive": int((y == 1).sum())},
        "n": int(y.size),
    }


# The name starts with "test_" for the caller's sake; keep pytest from collecting it
# when a test module imports it.
test_metrics.__test__ = False  # type: ignore[attr-defined]
