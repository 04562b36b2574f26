"""Folds, one-pass cross-validation, model selection, threshold choice and test metrics."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from raw_inputs import raw_inputs
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from training import columns as col
from training.config import load_config
from training.evaluation import (
    CvResult,
    ThresholdChoice,
    choose_threshold,
    cross_validate_model,
    make_folds,
    score,
    select_best,
)
from training.evaluation import test_metrics as compute_test_metrics
from training.models import build_pipeline
from training.schema import Config

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(scope="module")
def config() -> Config:
    loaded = load_config(CONFIG_PATH)
    return replace(loaded, seed=7, cv=replace(loaded.cv, n_splits=4))


def _raw(n: int = 80, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    frame, target = raw_inputs(n, seed, shuffled_index=True)
    return frame, pd.Series(target, index=frame.index)


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Scores rows by minutes watched and logs the rows of every fit and every scoring call."""

    log: ClassVar[list[tuple[str, tuple[Any, ...]]]] = []

    def fit(self, X: pd.DataFrame, y: Any) -> SpyClassifier:
        type(self).log.append(("fit", tuple(X.index)))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        type(self).log.append(("predict_proba", tuple(X.index)))
        p = 1.0 / (1.0 + np.exp(-(X[col.MINUTES_WATCHED].to_numpy() - 200.0) / 100.0))
        return np.column_stack([1.0 - p, p])


@pytest.fixture
def spy_log(monkeypatch) -> list[tuple[str, tuple[Any, ...]]]:
    log: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(SpyClassifier, "log", log)
    return log


def _result(name: str, mean: float) -> CvResult:
    return CvResult(name, (mean,), mean, 0.0, np.zeros(3), "probability")


def test_folds_are_identical_for_one_seed(config):
    _, y = _raw()
    first, second = make_folds(y, config), make_folds(y, config)
    assert len(first) == config.cv.n_splits
    for (train_a, valid_a), (train_b, valid_b) in zip(first, second, strict=True):
        np.testing.assert_array_equal(train_a, train_b)
        np.testing.assert_array_equal(valid_a, valid_b)


def test_folds_differ_for_another_seed(config):
    _, y = _raw()
    first = make_folds(y, config)
    other = make_folds(y, replace(config, seed=config.seed + 1))
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, other, strict=True))


def test_folds_are_positional_stratified_and_partition_the_rows(config):
    _, y = _raw()
    folds = make_folds(y, config)
    validation = np.concatenate([valid for _, valid in folds])
    np.testing.assert_array_equal(np.sort(validation), np.arange(len(y)))
    for train, valid in folds:
        assert not set(train) & set(valid)
        assert abs(y.iloc[valid].mean() - y.mean()) < 0.1


def test_cross_validation_fits_each_fold_exactly_once(config, spy_log):
    X, y = _raw()
    folds = make_folds(y, config)
    cross_validate_model("spy", SpyClassifier(), X, y, folds)
    fits = [rows for kind, rows in spy_log if kind == "fit"]
    assert len(fits) == len(folds)
    assert fits == [tuple(X.index[train]) for train, _ in folds]
    scored = [rows for kind, rows in spy_log if kind == "predict_proba"]
    assert scored == [tuple(X.index[valid]) for _, valid in folds]


def test_cross_validation_leaves_the_given_pipeline_unfitted(config, spy_log):
    X, y = _raw()
    spy = SpyClassifier()
    cross_validate_model("spy", spy, X, y, make_folds(y, config))
    assert not hasattr(spy, "classes_")


def test_out_of_fold_scores_cover_every_row_once_from_the_model_that_did_not_see_it(config):
    X, y = _raw()
    folds = make_folds(y, config)
    pipeline = build_pipeline(config, LogisticRegression(max_iter=500, random_state=0))
    result = cross_validate_model("logistic_regression", pipeline, X, y, folds)
    assert result.oof_scores.shape == (len(y),)
    assert not np.isnan(result.oof_scores).any()
    train, valid = folds[1]
    refit = clone(pipeline).fit(X.iloc[train], y.iloc[train])
    np.testing.assert_allclose(result.oof_scores[valid], refit.predict_proba(X.iloc[valid])[:, 1])


def test_cv_result_summarises_fold_scores_as_plain_floats(config, spy_log):
    X, y = _raw()
    result = cross_validate_model("spy", SpyClassifier(), X, y, make_folds(y, config))
    assert len(result.fold_scores) == config.cv.n_splits
    assert all(type(s) is float for s in result.fold_scores)
    assert type(result.mean) is float and type(result.std) is float
    assert result.mean == pytest.approx(np.mean(result.fold_scores))
    assert result.std == pytest.approx(np.std(result.fold_scores))
    assert result.score_kind == "probability"
    assert not result.oof_scores.flags.writeable


def test_cross_validation_is_repeatable_and_keeps_no_timings(config):
    X, y = _raw()
    folds = make_folds(y, config)
    pipeline = build_pipeline(config, LogisticRegression(max_iter=500, random_state=0))
    first = cross_validate_model("lr", pipeline, X, y, folds)
    second = cross_validate_model("lr", pipeline, X, y, folds)
    assert first == second
    assert "seconds" not in repr(first)


def test_on_fold_reports_each_fold_numbered_from_one(config, spy_log):
    X, y = _raw()
    calls = []
    result = cross_validate_model(
        "spy", SpyClassifier(), X, y, make_folds(y, config), on_fold=lambda *a: calls.append(a)
    )
    n = config.cv.n_splits
    assert [(c[0], c[1], c[2]) for c in calls] == [("spy", k, n) for k in range(1, n + 1)]
    assert [c[3] for c in calls] == list(result.fold_scores)
    assert all(c[4] >= 0 for c in calls)


def test_folds_that_skip_rows_are_refused(config, spy_log):
    X, y = _raw()
    folds = make_folds(y, config)[:-1]
    with pytest.raises(ValueError, match="exactly once"):
        cross_validate_model("spy", SpyClassifier(), X, y, folds)


def test_score_prefers_probabilities(config):
    X, y = _raw()
    model = build_pipeline(config, LogisticRegression(random_state=0)).fit(X, y)
    scores, kind = score(model, X)
    assert kind == "probability"
    np.testing.assert_array_equal(scores, model.predict_proba(X)[:, 1])


def test_score_falls_back_to_decision_function_for_svc(config):
    X, y = _raw()
    model = build_pipeline(config, SVC(random_state=0)).fit(X, y)
    scores, kind = score(model, X)
    assert kind == "decision"
    np.testing.assert_array_equal(scores, model.decision_function(X))


def test_select_best_picks_the_highest_mean():
    results = {"a": _result("a", 0.70), "b": _result("b", 0.81), "c": _result("c", 0.80)}
    assert select_best(results) == "b"


def test_select_best_tie_goes_to_the_model_listed_first():
    results = {"knn": _result("knn", 0.8), "svm": _result("svm", 0.8), "lr": _result("lr", 0.7)}
    assert select_best(results) == "knn"
    assert select_best(dict(reversed(results.items()))) == "svm"


def test_select_best_refuses_an_empty_mapping():
    with pytest.raises(ValueError):
        select_best({})


def test_threshold_is_the_lowest_one_reaching_the_target_precision():
    y = [0, 0, 1, 1, 0, 1]
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    # precision at each threshold: .1→3/6, .2→3/5, .3→3/4, .4→2/3, .5→1/2, .6→1
    choice = choose_threshold(y, scores, target_precision=0.7)
    assert choice == ThresholdChoice(threshold=0.3, precision=0.75, recall=1.0, target_met=True)
    # precision exactly equal to the target qualifies
    assert choose_threshold(y, scores, target_precision=0.6).threshold == 0.2


def test_threshold_falls_back_to_highest_precision_when_target_unreachable():
    y = [0, 1, 0, 1, 0]
    scores = [0.1, 0.2, 0.3, 0.4, 0.5]
    # precision: .1→2/5, .2→2/4, .3→1/3, .4→1/2, .5→0; the best (1/2) is reached twice
    choice = choose_threshold(y, scores, target_precision=0.9)
    assert choice == ThresholdChoice(threshold=0.2, precision=0.5, recall=1.0, target_met=False)


def test_threshold_choice_holds_plain_python_values():
    choice = choose_threshold(np.array([0, 1, 1]), np.array([0.2, 0.6, 0.9]), 0.5)
    assert type(choice.threshold) is float
    assert type(choice.precision) is float
    assert type(choice.recall) is float
    assert type(choice.target_met) is bool


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return value is None or type(value) in (int, float, bool, str)


def test_metrics_are_plain_python_types_ready_for_json():
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.9, 0.6])
    metrics = compute_test_metrics(y, scores, threshold=0.5)
    assert _plain(metrics)
    json.dumps(metrics, allow_nan=False)
    assert set(metrics) >= {"precision", "recall", "f1", "roc_auc", "pr_auc", "confusion_matrix"}


def test_confusion_matrix_sums_to_the_number_of_rows():
    y = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.9, 0.6])
    metrics = compute_test_metrics(y, scores, threshold=0.5)
    matrix = metrics["confusion_matrix"]
    assert matrix == {"tn": 3, "fp": 1, "fn": 1, "tp": 3}
    assert sum(matrix.values()) == len(y) == metrics["n"]
    assert metrics["support"] == {"negative": 4, "positive": 4}
    assert metrics["precision"] == pytest.approx(0.75)
    assert metrics["recall"] == pytest.approx(0.75)


def test_threshold_counts_a_score_equal_to_it_as_positive():
    metrics = compute_test_metrics([0, 1], [0.2, 0.5], threshold=0.5)
    assert metrics["confusion_matrix"]["tp"] == 1


def test_metrics_with_no_predicted_positive_report_zero_precision():
    metrics = compute_test_metrics([0, 1, 1], [0.1, 0.2, 0.3], threshold=0.99)
    assert metrics["precision"] == 0.0
    assert metrics["recall"] == 0.0
    assert metrics["f1"] == 0.0


def test_ranking_metrics_are_none_when_only_one_class_is_present():
    metrics = compute_test_metrics([1, 1], [0.2, 0.9], threshold=0.5)
    assert metrics["roc_auc"] is None
    assert metrics["pr_auc"] is None
    json.dumps(metrics, allow_nan=False)
