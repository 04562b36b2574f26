"""Learned preprocessing: outlier clipping, imputation, scaling and one-hot encoding.

Everything here is fitted on training rows only and stored in the model pipeline, so
prediction applies exactly the bounds, fill values, scales and categories learned in
training.  Output columns come in a fixed order (numeric features in the order of
`training.features.NUMERIC_FEATURES`, then one-hot columns in sorted category order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from training.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES

if TYPE_CHECKING:
    from training.schema import Config

# What a constant-strategy imputer writes; the categorical one becomes its own one-hot column.
NUMERIC_FILL_VALUE = 0.0
CATEGORICAL_FILL_VALUE = "missing"


class IQRClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to [Q1 − factor·IQR, Q3 + factor·IQR] so extreme values cannot dominate.

    The bounds are learned in `fit` (quartiles ignore NaN) and only applied in
    `transform`; NaN passes through unchanged for the imputer that follows.  A column
    with no observed value in fit gets infinite bounds, i.e. it is not clipped.
    """

    def __init__(self, factor: float = 1.5):
        self.factor = factor

    def fit(self, X: object, y: object = None) -> IQRClipper:
        """Learn `lower_` and `upper_`, one bound per column."""
        if not (isinstance(self.factor, int | float) and self.factor >= 0):
            raise ValueError(f"IQRClipper: factor must be a number >= 0, got {self.factor!r}")
        values = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", reset=True)
        observed = ~np.isnan(values).all(axis=0)
        q1 = np.full(values.shape[1], np.nan)
        q3 = np.full(values.shape[1], np.nan)
        if observed.any():
            q1[observed], q3[observed] = np.nanpercentile(values[:, observed], [25, 75], axis=0)
        iqr = q3 - q1
        self.lower_ = np.where(observed, q1 - self.factor * iqr, -np.inf)
        self.upper_ = np.where(observed, q3 + self.factor * iqr, np.inf)
        return self

    def transform(self, X: object) -> np.ndarray:
        """Return a clipped float copy of X; NaN stays NaN."""
        check_is_fitted(self, ("lower_", "upper_"))
        values = validate_data(
            self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", reset=False, copy=True
        )
        # np.clip propagates NaN, which is exactly what the imputer downstream expects.
        return np.clip(values, self.lower_, self.upper_)


def build_preprocessor(config: Config) -> ColumnTransformer:
    """Build the unfitted column transformer from the `preprocessing` section.

    Numeric features: IQRClipper → SimpleImputer → StandardScaler (distance- and
    margin-based models need comparable scales).  Categorical features: SimpleImputer
    → OneHotEncoder, ignoring categories unseen in training.  Both imputers keep
    all-missing columns, so the output width does not depend on the training sample.
    """
    settings = config.preprocessing
    numeric = Pipeline(
        [
            ("clip", IQRClipper(factor=settings.outlier_factor)),
            (
                "impute",
                SimpleImputer(
                    strategy=settings.numeric_imputer,
                    fill_value=NUMERIC_FILL_VALUE,
                    keep_empty_features=True,
                ),
            ),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            (
                "impute",
                SimpleImputer(
                    strategy=settings.categorical_imputer,
                    fill_value=CATEGORICAL_FILL_VALUE,
                    keep_empty_features=True,
                ),
            ),
            (
                "encode",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
            ),
        ]
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, list(NUMERIC_FEATURES)),
            ("categorical", categorical, list(CATEGORICAL_FEATURES)),
        ],
        remainder="drop",
        # Dense output always: the choice must not flip with the data's sparsity.
        sparse_threshold=0.0,
        n_jobs=1,
    )
