"""Learned preprocessing: IQR clipping bounds, imputers, encoder, and their survival in a saved pipeline."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from raw_inputs import raw_inputs
from sklearn.linear_model import LogisticRegression

from training import columns as col
from training.config import load_config
from training.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, FeatureBuilder
from training.models import build_pipeline
from training.preprocessing import CATEGORICAL_FILL_VALUE, IQRClipper, build_preprocessor
from training.schema import Config

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.yaml"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(CONFIG_PATH)


def _raw(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    return raw_inputs(n, seed, missing_minutes_every=7, missing_country_every=9)


def _with_imputers(config: Config, numeric: str, categorical: str) -> Config:
    return replace(
        config,
        preprocessing=replace(config.preprocessing, numeric_imputer=numeric, categorical_imputer=categorical),
    )


def test_clipper_learns_iqr_bounds_in_fit():
    X = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    clipper = IQRClipper(factor=1.5).fit(X)
    # Q1 = 2, Q3 = 4, IQR = 2
    np.testing.assert_allclose(clipper.lower_, [2 - 3.0])
    np.testing.assert_allclose(clipper.upper_, [4 + 3.0])


def test_clipper_ignores_nan_when_learning_bounds():
    with_nan = np.array([[1.0], [np.nan], [2.0], [3.0], [np.nan], [4.0], [5.0]])
    without = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    a, b = IQRClipper().fit(with_nan), IQRClipper().fit(without)
    np.testing.assert_allclose(a.lower_, b.lower_)
    np.testing.assert_allclose(a.upper_, b.upper_)


def test_clipper_clips_unseen_extremes_to_bounds_learned_in_fit():
    clipper = IQRClipper(factor=1.0).fit(np.array([[0.0], [10.0], [20.0], [30.0], [40.0]]))
    lower, upper = clipper.lower_.copy(), clipper.upper_.copy()
    out = clipper.transform(np.array([[-1e9], [15.0], [1e9]]))
    np.testing.assert_allclose(out[:, 0], [lower[0], 15.0, upper[0]])
    # transform applies the bounds, it never learns new ones
    np.testing.assert_array_equal(clipper.lower_, lower)
    np.testing.assert_array_equal(clipper.upper_, upper)


def test_clipper_keeps_nan_as_nan():
    clipper = IQRClipper().fit(np.array([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]]))
    out = clipper.transform(np.array([[np.nan, 100.0], [2.0, np.nan]]))
    assert np.isnan(out[0, 0])
    assert np.isnan(out[1, 1])


def test_clipper_does_not_clip_a_column_never_observed_in_fit():
    clipper = IQRClipper().fit(np.array([[np.nan, 1.0], [np.nan, 2.0]]))
    assert clipper.lower_[0] == -np.inf
    assert clipper.upper_[0] == np.inf
    assert clipper.transform(np.array([[1e12, 1.5]]))[0, 0] == 1e12


def test_clipper_does_not_mutate_its_input():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]])
    before = X.copy()
    IQRClipper().fit(X).transform(X)
    np.testing.assert_array_equal(X, before)


def test_clipper_pandas_output_keeps_column_names_and_index():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 50.0], "b": [4, 5, 6, 7]}, index=[9, 8, 7, 6])
    clipper = IQRClipper().set_output(transform="pandas").fit(frame)
    out = clipper.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["a", "b"]
    assert list(out.index) == [9, 8, 7, 6]
    assert list(clipper.get_feature_names_out()) == ["a", "b"]
    assert out["a"].iloc[-1] == pytest.approx(clipper.upper_[0])


def test_clipper_refuses_a_different_number_of_columns():
    clipper = IQRClipper().fit(np.ones((4, 2)))
    with pytest.raises(ValueError):
        clipper.transform(np.ones((4, 3)))


def test_clipper_rejects_negative_factor_naming_it():
    with pytest.raises(ValueError, match="factor"):
        IQRClipper(factor=-1).fit(np.ones((3, 1)))


def test_preprocessor_output_columns_have_a_fixed_order(config):
    raw, _ = _raw()
    features = FeatureBuilder().fit_transform(raw)
    names = list(build_preprocessor(config).fit(features).get_feature_names_out())
    numeric = [f"numeric__{name}" for name in NUMERIC_FEATURES]
    categorical = [f"categorical__{col.COUNTRY}_{c}" for c in ("DE", "IN", "US")]
    assert names == numeric + categorical
    # the same columns in another order give the same output layout
    shuffled = features[list(reversed(features.columns))]
    assert list(build_preprocessor(config).fit(shuffled).get_feature_names_out()) == names


def test_preprocessor_scales_numeric_columns(config):
    raw, _ = _raw()
    out = build_preprocessor(config).fit_transform(FeatureBuilder().fit_transform(raw))
    numeric = out[:, : len(NUMERIC_FEATURES)]
    np.testing.assert_allclose(numeric.mean(axis=0), 0.0, atol=1e-9)
    assert not np.isnan(out).any()


@pytest.mark.parametrize(
    ("numeric", "categorical"),
    [("mean", "most_frequent"), ("median", "constant"), ("constant", "constant")],
)
def test_every_imputer_strategy_fills_all_missing_values(config, numeric, categorical):
    raw, _ = _raw()
    features = FeatureBuilder().fit_transform(raw)
    preprocessor = build_preprocessor(_with_imputers(config, numeric, categorical))
    out = preprocessor.fit_transform(features)
    assert not np.isnan(out).any()
    names = list(preprocessor.get_feature_names_out())
    fill_column = f"categorical__{col.COUNTRY}_{CATEGORICAL_FILL_VALUE}"
    assert (fill_column in names) == (categorical == "constant")


def test_category_unseen_in_training_encodes_as_all_zeros(config):
    assert CATEGORICAL_FEATURES == (col.COUNTRY,)
    raw, _ = _raw()
    preprocessor = build_preprocessor(config).fit(FeatureBuilder().fit_transform(raw))
    unseen = raw.head(1).assign(**{col.COUNTRY: "Atlantis"})
    out = preprocessor.transform(FeatureBuilder().fit_transform(unseen))
    assert (out[0, len(NUMERIC_FEATURES) :] == 0).all()


def test_saved_pipeline_applies_learned_preprocessing_at_prediction(config, tmp_path):
    raw, y = _raw()
    pipeline = build_pipeline(config, LogisticRegression(max_iter=500, random_state=0))
    pipeline.fit(raw, y)
    path = tmp_path / "model.joblib"
    joblib.dump(pipeline, path)
    loaded = joblib.load(path)

    fresh, _ = _raw(n=25, seed=1)
    fresh.loc[0, col.MINUTES_WATCHED] = 1e12
    np.testing.assert_array_equal(loaded.predict_proba(fresh), pipeline.predict_proba(fresh))
    np.testing.assert_array_equal(loaded.predict(fresh), pipeline.predict(fresh))

    # The extreme minutes value is clipped to the bound learned in training, not a new one.
    clipper = loaded.named_steps["preprocess"].named_transformers_["numeric"].named_steps["clip"]
    at_bound = fresh.head(1).copy()
    position = NUMERIC_FEATURES.index(col.MINUTES_WATCHED)
    at_bound.loc[0, col.MINUTES_WATCHED] = clipper.upper_[position]
    encoded = loaded[:-1].transform(pd.concat([fresh.head(1), at_bound]))
    assert encoded[0, position] == encoded[1, position]
