"""The feature step: derived-feature arithmetic, epsilon, and leaving its input alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from training import columns as col
from training.config import load_config
from training.features import (
    CATEGORICAL_FEATURES,
    DERIVED_FEATURES,
    NUMERIC_FEATURES,
    FeatureBuilder,
    feature_builder_from_config,
)

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.yaml"


def _raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            col.COUNTRY: ["US", "IN", None],
            col.DAYS_ON_PLATFORM: [10, 0, 4],
            col.MINUTES_WATCHED: [100.0, 30.0, np.nan],
            col.COURSES_STARTED: [2, 1, 0],
            col.EXAMS_STARTED: [4, 0, 2],
            col.EXAMS_PASSED: [3, 0, 2],
            col.MINUTES_ON_EXAMS: [12.5, 0.0, 7.0],
        },
        index=[7, 3, 5],
    )


def _builder(epsilon: float = 1e-6) -> FeatureBuilder:
    return FeatureBuilder(
        epsilon=epsilon,
        minutes_watched_weight=0.5,
        days_on_platform_weight=2.0,
        courses_started_weight=10.0,
    )


def test_engagement_is_weighted_sum_of_minutes_days_and_courses():
    out = _builder().fit_transform(_raw())
    assert out["engagement"].iloc[0] == pytest.approx(0.5 * 100 + 2.0 * 10 + 10.0 * 2)
    assert out["engagement"].iloc[1] == pytest.approx(0.5 * 30 + 2.0 * 0 + 10.0 * 1)


def test_ratios_divide_by_denominator_plus_epsilon():
    out = _builder(epsilon=0.5).fit_transform(_raw())
    assert out["exam_pass_rate"].iloc[0] == pytest.approx(3 / 4.5)
    assert out["minutes_per_day"].iloc[0] == pytest.approx(100 / 10.5)


def test_epsilon_keeps_ratios_finite_when_denominator_is_zero():
    out = _builder(epsilon=1e-6).fit_transform(_raw())
    assert out["exam_pass_rate"].iloc[1] == 0.0
    assert out["minutes_per_day"].iloc[1] == pytest.approx(30 / 1e-6)
    assert np.isfinite(out[["exam_pass_rate", "minutes_per_day"]].iloc[1]).all()


def test_missing_input_gives_missing_derived_values_for_the_imputer():
    out = _builder().fit_transform(_raw())
    assert np.isnan(out["engagement"].iloc[2])
    assert np.isnan(out["minutes_per_day"].iloc[2])
    assert out["exam_pass_rate"].iloc[2] == pytest.approx(1.0, rel=1e-5)


def test_output_keeps_input_columns_and_index_then_appends_derived():
    raw = _raw()
    out = _builder().fit_transform(raw)
    assert list(out.columns) == [*raw.columns, *DERIVED_FEATURES]
    assert list(out.index) == [7, 3, 5]
    pd.testing.assert_frame_equal(out[list(raw.columns)], raw)


def test_transform_does_not_mutate_its_input():
    raw = _raw()
    before = raw.copy(deep=True)
    _builder().fit(raw).transform(raw)
    pd.testing.assert_frame_equal(raw, before)


def test_fit_records_feature_names_and_count():
    builder = _builder().fit(_raw())
    assert list(builder.feature_names_in_) == list(col.INPUT_COLUMNS)
    assert builder.n_features_in_ == len(col.INPUT_COLUMNS)
    assert list(builder.get_feature_names_out()) == [*col.INPUT_COLUMNS, *DERIVED_FEATURES]


def test_fit_names_the_required_columns_that_are_missing():
    with pytest.raises(ValueError, match="minutes_watched"):
        _builder().fit(_raw().drop(columns=[col.MINUTES_WATCHED]))


def test_transform_refuses_columns_other_than_those_seen_in_fit():
    builder = _builder().fit(_raw())
    with pytest.raises(ValueError):
        builder.transform(_raw().drop(columns=[col.MINUTES_ON_EXAMS]))


def test_transform_before_fit_is_refused():
    with pytest.raises(NotFittedError):
        _builder().transform(_raw())


def test_non_frame_input_is_refused_with_a_type_error():
    with pytest.raises(TypeError, match="DataFrame"):
        _builder().fit(_raw().to_numpy())


def test_builder_from_config_takes_epsilon_and_weights():
    config = load_config(CONFIG_PATH)
    config = replace(config, features=replace(config.features, epsilon=0.25))
    params = feature_builder_from_config(config).get_params()
    weights = config.features.engagement
    assert params == {
        "epsilon": 0.25,
        "minutes_watched_weight": weights.minutes_watched_weight,
        "days_on_platform_weight": weights.days_on_platform_weight,
        "courses_started_weight": weights.courses_started_weight,
    }


def test_clone_keeps_parameters():
    assert clone(_builder(0.3)).get_params() == _builder(0.3).get_params()


def test_feature_constants_cover_inputs_and_derived_without_overlap():
    assert set(NUMERIC_FEATURES) == set(col.NUMERIC_INPUTS) | set(DERIVED_FEATURES)
    assert set(CATEGORICAL_FEATURES) == set(col.CATEGORICAL_INPUTS)
    assert not set(NUMERIC_FEATURES) & set(CATEGORICAL_FEATURES)
