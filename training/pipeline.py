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


def add_features(
    X: pd.DataFrame,
    epsilon: float,
    minutes_watched_weight: float,
    days_on_platform_weight: float,
    courses_started_weight: float,
) -> pd.DataFrame:
    """Return the inputs, then engagement (a weighted sum), exam_pass_rate and minutes_per_day."""
    minutes, days = X["minutes_watched"], X["days_on_platform"]
    derived = pd.DataFrame(
        {
            "engagement": minutes_watched_weight * minutes
            + days_on_platform_weight * days
            + courses_started_weight * X["courses_started"],
            "exam_pass_rate": X["practice_exams_passed"] / (X["practice_exams_started"] + epsilon),
            "minutes_per_day": minutes / (days + epsilon),
        },
        index=X.index,
    )
    return pd.concat([X, derived], axis=1)


def _feature_names(transformer: FunctionTransformer, names: Any) -> np.ndarray:
    return np.asarray([*names, *DERIVED_FEATURES], dtype=object)


class IQRClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to [Q1 − factor·IQR, Q3 + factor·IQR], bounds learned in fit; NaN passes through."""

    def __init__(self, factor: float = 1.5):
        self.factor = factor

    def fit(self, X: Any, y: Any = None) -> IQRClipper:
        values = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", reset=True)
        observed = ~np.isnan(values).all(axis=0)
        q1 = np.full(values.shape[1], np.nan)
        q3 = np.full(values.shape[1], np.nan)
        if observed.any():
            q1[observed], q3[observed] = np.nanpercentile(values[:, observed], [25, 75], axis=0)
        self.lower_ = np.where(observed, q1 - self.factor * (q3 - q1), -np.inf)
        self.upper_ = np.where(observed, q3 + self.factor * (q3 - q1), np.inf)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        values = validate_data(
            self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", reset=False, copy=True
        )
        return np.clip(values, self.lower_, self.upper_)


def build_preprocessor(config: Config) -> ColumnTransformer:
    """Numbers: clip, impute, scale; the country: impute, one-hot (unseen ones ignored). Dense, fixed order."""
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
    return ColumnTransformer(
        [
            ("numeric", numeric, list(NUMERIC_FEATURES)),
            ("categorical", categorical, list(CATEGORICAL_FEATURES)),
        ],
        sparse_threshold=0.0,
    )


def build_estimators(config: Config) -> dict[str, BaseEstimator]:
    """Build the configured models by name, in the config's fixed order, seeded."""
    # REPRO_N_JOBS: set by pytest-repro's n_jobs variation, which must not change the result.
    models, seed, jobs = config.models, config.seed, env_int("REPRO_N_JOBS", 1, 1)
    # Each section's keys are the estimator's own parameter names.  SVC scores by decision_function
    # (probability=True would run an internal CV).
    built = {
        "logistic_regression": lambda params: LogisticRegression(**params, random_state=seed),
        "knn": lambda params: KNeighborsClassifier(**params, n_jobs=jobs),
        "svm": lambda params: SVC(**params, random_state=seed),
        "decision_tree": lambda params: DecisionTreeClassifier(**params, random_state=seed),
        "random_forest": lambda params: RandomForestClassifier(**params, random_state=seed, n_jobs=jobs),
    }
    return {name: built[name](vars(section)) for name, section in models.present().items()}


def build_pipeline(config: Config, estimator: BaseEstimator) -> Pipeline:
    """Wrap an estimator with feature building and preprocessing."""
    features = FunctionTransformer(
        add_features,
        kw_args={"epsilon": config.features.epsilon, **vars(config.features.engagement)},
        feature_names_out=_feature_names,
    )
    return Pipeline(
        [("features", features), ("preprocess", build_preprocessor(config)), ("model", estimator)]
    )
