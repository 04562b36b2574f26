"""Derived features, computed inside the pipeline so training and prediction cannot disagree.

`FeatureBuilder` is the first step of every model pipeline: it keeps the raw input
columns and appends the engagement score and two ratios.  It learns nothing from the
data, but it is a proper scikit-learn transformer (parameters in `__init__`,
`feature_names_in_` after `fit`), so `clone`, `get_params` and a joblib round-trip
treat it like any other step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from training.columns import (
    CATEGORICAL_INPUTS,
    COURSES_STARTED,
    DAYS_ON_PLATFORM,
    EXAMS_PASSED,
    EXAMS_STARTED,
    MINUTES_WATCHED,
    NUMERIC_INPUTS,
)

if TYPE_CHECKING:
    from training.schema import Config

ENGAGEMENT = "engagement"
EXAM_PASS_RATE = "exam_pass_rate"
MINUTES_PER_DAY = "minutes_per_day"

DERIVED_FEATURES: tuple[str, ...] = (ENGAGEMENT, EXAM_PASS_RATE, MINUTES_PER_DAY)
NUMERIC_FEATURES: tuple[str, ...] = NUMERIC_INPUTS + DERIVED_FEATURES
CATEGORICAL_FEATURES: tuple[str, ...] = CATEGORICAL_INPUTS

# The inputs the derived features are computed from; the other columns pass through.
REQUIRED_COLUMNS: tuple[str, ...] = (
    MINUTES_WATCHED,
    DAYS_ON_PLATFORM,
    COURSES_STARTED,
    EXAMS_STARTED,
    EXAMS_PASSED,
)


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Append engagement and ratio features to a frame of raw inputs, leaving the input untouched.

    engagement      = minutes_watched_weight·minutes_watched
                      + days_on_platform_weight·days_on_platform
                      + courses_started_weight·courses_started
    exam_pass_rate  = practice_exams_passed / (practice_exams_started + epsilon)
    minutes_per_day = minutes_watched / (days_on_platform + epsilon)

    `epsilon` keeps the ratios finite when a denominator is zero.  Missing inputs give
    missing derived values, which the preprocessing step imputes later.
    """

    def __init__(
        self,
        epsilon: float = 1e-6,
        minutes_watched_weight: float = 1.0,
        days_on_platform_weight: float = 1.0,
        courses_started_weight: float = 1.0,
    ):
        self.epsilon = epsilon
        self.minutes_watched_weight = minutes_watched_weight
        self.days_on_platform_weight = days_on_platform_weight
        self.courses_started_weight = courses_started_weight

    def fit(self, X: pd.DataFrame, y: object = None) -> FeatureBuilder:
        """Record the input columns, so transform can refuse a frame with different ones."""
        _require_frame(X)
        if not self.epsilon > 0:
            raise ValueError(f"FeatureBuilder: epsilon must be > 0, got {self.epsilon!r}")
        missing = [c for c in REQUIRED_COLUMNS if c not in X.columns]
        if missing:
            raise ValueError(
                f"FeatureBuilder: input lacks column(s) {missing}; required: {list(REQUIRED_COLUMNS)}"
            )
        clashing = [c for c in DERIVED_FEATURES if c in X.columns]
        if clashing:
            raise ValueError(f"FeatureBuilder: input already has derived column(s) {clashing}")
        validate_data(self, X, skip_check_array=True, reset=True)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return a new frame with the input columns followed by the derived features."""
        check_is_fitted(self)
        _require_frame(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        minutes = _as_float(X, MINUTES_WATCHED)
        days = _as_float(X, DAYS_ON_PLATFORM)
        courses = _as_float(X, COURSES_STARTED)
        started = _as_float(X, EXAMS_STARTED)
        passed = _as_float(X, EXAMS_PASSED)
        derived = pd.DataFrame(
            {
                ENGAGEMENT: self.minutes_watched_weight * minutes
                + self.days_on_platform_weight * days
                + self.courses_started_weight * courses,
                EXAM_PASS_RATE: passed / (started + self.epsilon),
                MINUTES_PER_DAY: minutes / (days + self.epsilon),
            },
            index=X.index,
        )
        # concat builds a new frame; X itself is never written to.
        return pd.concat([X, derived], axis=1)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Name the output columns: the inputs in their order, then the derived features."""
        check_is_fitted(self)
        names = list(self.feature_names_in_)
        if input_features is not None and list(input_features) != names:
            raise ValueError(
                f"FeatureBuilder: input_features {list(input_features)} differ from the "
                f"columns seen in fit {names}"
            )
        return np.asarray([*names, *DERIVED_FEATURES], dtype=object)


def feature_builder_from_config(config: Config) -> FeatureBuilder:
    """Build the feature step from the `features` section, so the weights have one source."""
    weights = config.features.engagement
    return FeatureBuilder(
        epsilon=config.features.epsilon,
        minutes_watched_weight=weights.minutes_watched_weight,
        days_on_platform_weight=weights.days_on_platform_weight,
        courses_started_weight=weights.courses_started_weight,
    )


def _require_frame(X: object) -> None:
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"FeatureBuilder needs a pandas DataFrame, got {type(X).__name__}")


def _as_float(X: pd.DataFrame, column: str) -> np.ndarray:
    # to_numpy with na_value handles nullable dtypes (pd.NA) as well as plain float64.
    return X[column].to_numpy(dtype="float64", na_value=np.nan)
