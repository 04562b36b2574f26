"""One scikit-learn Pipeline from raw rows to scores: derived features, learned preprocessing, an estimator."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from training.config import Config, env_int
from training.data import COUNTRY, NUMERIC_INPUTS

DERIVED_FEATURES = ("engagement", "exam_pass_rate", "minutes_per_day")
NUMERIC_FEATURES = (*NUMERIC_INPUTS, *DERIVED_FEATURES)
CATEGORICAL_FEATURES = (COUNTRY,)
_FLOATS = {"dtype": FLOAT_DTYPES, "ensure_all_finite": "allow-nan"}  # IQRClipper's input: floats, NaN allowed


def add_features(X: pd.DataFrame, epsilon: float, **weights: float) -> pd.DataFrame:
    """Return the inputs, then engagement (a weighted sum), exam_pass_rate and minutes_per_day."""
    minutes, days, courses = X["minutes_watched"], X["days_on_platform"], X["courses_started"]
    engagement = (
        weights["minutes_watched_weight"] * minutes
        + weights["days_on_platform_weight"] * days
        + weights["courses_started_weight"] * courses
    )
    exams = X["practice_exams_passed"] / (X["practice_exams_started"] + epsilon)
    per_day = minutes / (days + epsilon)
    derived = {"engagement": engagement, "exam_pass_rate": exams, "minutes_per_day": per_day}
    return pd.concat([X, pd.DataFrame(derived, index=X.index)], axis=1)


def _feature_names(transformer: FunctionTransformer, names: Any) -> np.ndarray:
    return np.asarray([*names, *DERIVED_FEATURES], dtype=object)


class IQRClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to [Q1 − factor·IQR, Q3 + factor·IQR], bounds learned in fit; NaN passes through."""

    def __init__(self, factor: float = 1.5):
        self.factor = factor

    def fit(self, X: Any, y: Any = None) -> IQRClipper:
        values = validate_data(self, X, reset=True, **_FLOATS)
        observed = ~np.isnan(values).all(axis=0)
        q1, q3 = np.full(values.shape[1], np.nan), np.full(values.shape[1], np.nan)
        if observed.any():
            q1[observed], q3[observed] = np.nanpercentile(values[:, observed], [25, 75], axis=0)
        self.lower_ = np.where(observed, q1 - self.factor * (q3 - q1), -np.inf)
        self.upper_ = np.where(observed, q3 + self.factor * (q3 - q1), np.inf)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        values = validate_data(self, X, reset=False, copy=True, **_FLOATS)
        return np.clip(values, self.lower_, self.upper_)


def build_estimators(config: Config) -> dict[str, BaseEstimator]:
    """Build the configured models by name, in the config's fixed order, seeded."""
    # REPRO_N_JOBS: set by pytest-repro's n_jobs variation, which must not change the result.  SVC scores
    # by decision_function (probability=True would run an internal CV).
    seed, jobs = config.seed, env_int("REPRO_N_JOBS", 1, 1)
    built = {
        "logistic_regression": lambda params: LogisticRegression(**params, random_state=seed),
        "knn": lambda params: KNeighborsClassifier(**params, n_jobs=jobs),
        "svm": lambda params: SVC(**params, random_state=seed),
        "decision_tree": lambda params: DecisionTreeClassifier(**params, random_state=seed),
        "random_forest": lambda params: RandomForestClassifier(**params, random_state=seed, n_jobs=jobs),
    }
    # Each section's keys are its estimator's parameter names.
    return {name: built[name](vars(section)) for name, section in config.models.present().items()}


def build_pipeline(config: Config, estimator: BaseEstimator) -> Pipeline:
    """Wrap an estimator: derived features; numbers clipped, imputed, scaled; the country imputed, one-hot."""
    feature_args = {"epsilon": config.features.epsilon, **vars(config.features.engagement)}
    features = FunctionTransformer(add_features, kw_args=feature_args, feature_names_out=_feature_names)
    settings = config.preprocessing
    numeric = make_pipeline(
        IQRClipper(factor=settings.outlier_factor),
        SimpleImputer(strategy=settings.numeric_imputer, fill_value=0.0, keep_empty_features=True),
        StandardScaler(),
    )
    categorical = make_pipeline(
        SimpleImputer(strategy=settings.categorical_imputer, fill_value="missing", keep_empty_features=True),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
    )
    columns = [
        ("numeric", numeric, list(NUMERIC_FEATURES)),
        ("categorical", categorical, list(CATEGORICAL_FEATURES)),
    ]
    preprocess = ColumnTransformer(columns, sparse_threshold=0.0)
    return Pipeline([("features", features), ("preprocess", preprocess), ("model", estimator)])
