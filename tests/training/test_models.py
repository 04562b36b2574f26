"""Candidate estimators: config order and hyperparameters, seeding, and warning-free fits."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from raw_inputs import raw_inputs
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer
from sklearn.svm import SVC

from training.config import load_config
from training.features import FeatureBuilder
from training.models import build_estimators, build_pipeline, unseeded_estimators
from training.schema import Config

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.yaml"
MODEL_NAMES = ("logistic_regression", "knn", "svm", "decision_tree", "random_forest")


@pytest.fixture(scope="module")
def config() -> Config:
    loaded = load_config(CONFIG_PATH)
    # A small forest keeps the fitting tests fast; the other settings stay as shipped.
    forest = replace(loaded.models.random_forest, n_estimators=10)
    return replace(loaded, seed=1234, models=replace(loaded.models, random_forest=forest))


def _raw(n: int = 80, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    return raw_inputs(n, seed, missing_minutes_every=11)


def test_estimators_come_in_the_config_order(config):
    assert tuple(build_estimators(config)) == MODEL_NAMES


def test_models_left_out_of_the_config_are_not_built(config):
    models = replace(config.models, knn=None, svm=None)
    names = tuple(build_estimators(replace(config, models=models)))
    assert names == ("logistic_regression", "decision_tree", "random_forest")


def test_every_estimator_accepting_random_state_gets_the_seed(config):
    for name, estimator in build_estimators(config).items():
        params = estimator.get_params()
        if "random_state" in params:
            assert params["random_state"] == config.seed, name
    seeded = {n for n, e in build_estimators(config).items() if "random_state" in e.get_params()}
    assert seeded == {"logistic_regression", "svm", "decision_tree", "random_forest"}


def test_estimators_taking_n_jobs_run_single_threaded(config):
    estimators = build_estimators(config)
    assert estimators["knn"].n_jobs == 1
    assert estimators["random_forest"].n_jobs == 1
    # n_jobs is deprecated and ignored on LogisticRegression; setting it would warn.
    assert estimators["logistic_regression"].n_jobs is None


def test_hyperparameters_come_from_the_config(config):
    estimators = build_estimators(config)
    models = config.models
    assert estimators["logistic_regression"].max_iter == models.logistic_regression.max_iter
    assert estimators["knn"].n_neighbors == models.knn.n_neighbors
    svm = estimators["svm"].get_params()
    assert (svm["C"], svm["kernel"], svm["gamma"]) == (
        models.svm.C,
        models.svm.kernel,
        models.svm.gamma,
    )
    tree = estimators["decision_tree"]
    assert tree.max_depth == models.decision_tree.max_depth
    assert tree.min_samples_leaf == models.decision_tree.min_samples_leaf
    forest = estimators["random_forest"]
    assert forest.n_estimators == models.random_forest.n_estimators
    assert forest.min_samples_leaf == models.random_forest.min_samples_leaf


def test_svc_is_built_without_probability_so_it_scores_by_decision_function(config):
    svc = build_estimators(config)["svm"]
    assert isinstance(svc, SVC)
    assert not hasattr(svc, "predict_proba")
    assert hasattr(svc, "decision_function")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fitting_each_model_raises_no_warning(config, name):
    raw, y = _raw()
    pipeline = build_pipeline(config, build_estimators(config)[name])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline.fit(raw, y)
        if hasattr(pipeline, "predict_proba"):
            pipeline.predict_proba(raw)
        else:
            pipeline.decision_function(raw)


def test_pipeline_runs_features_then_preprocessing_then_model(config):
    estimator = build_estimators(config)["knn"]
    pipeline = build_pipeline(config, estimator)
    assert [name for name, _ in pipeline.steps] == ["features", "preprocess", "model"]
    assert isinstance(pipeline.named_steps["features"], FeatureBuilder)
    assert isinstance(pipeline.named_steps["preprocess"], ColumnTransformer)
    assert pipeline.named_steps["model"] is estimator


@pytest.mark.parametrize("fitted", [False, True])
def test_built_pipelines_leave_nothing_unseeded(config, fitted):
    raw, y = _raw()
    for estimator in build_estimators(config).values():
        pipeline = build_pipeline(config, estimator)
        if fitted:
            pipeline.fit(raw, y)
        assert unseeded_estimators(pipeline) == []


def test_unseeded_estimators_finds_a_planted_random_forest(config):
    pipeline = build_pipeline(config, RandomForestClassifier())
    assert unseeded_estimators(pipeline) == ["model__random_state"]


def test_unseeded_estimators_reports_a_bare_estimator_by_its_own_parameter():
    assert unseeded_estimators(RandomForestClassifier()) == ["random_state"]
    assert unseeded_estimators(RandomForestClassifier(random_state=0)) == []


def test_unseeded_estimators_looks_inside_column_transformers_and_nested_params():
    inner = ColumnTransformer([("quantiles", QuantileTransformer(n_quantiles=5), [0])])
    pipeline = Pipeline(
        [
            ("prep", inner),
            ("model", CalibratedClassifierCV(LogisticRegression(random_state=0))),
        ]
    )
    assert unseeded_estimators(pipeline) == ["prep__quantiles__random_state"]
    calibrated = CalibratedClassifierCV(RandomForestClassifier())
    assert unseeded_estimators(calibrated) == ["estimator__random_state"]


def test_unseeded_estimators_flags_a_shuffling_splitter_without_seed():
    shuffled = CalibratedClassifierCV(LogisticRegression(random_state=0), cv=KFold(3, shuffle=True))
    assert unseeded_estimators(shuffled) == ["cv__random_state"]
    plain = CalibratedClassifierCV(LogisticRegression(random_state=0), cv=KFold(3))
    assert unseeded_estimators(plain) == []


def test_unseeded_estimators_ignores_objects_without_parameters():
    assert unseeded_estimators(object()) == []
    assert unseeded_estimators(RandomForestClassifier) == []
