"""Candidate estimators and the pipeline around them, all seeded from the one config seed.

Every estimator that takes a `random_state` gets `config.seed`, and every one that
takes `n_jobs` runs single-threaded (unless a harness sets `REPRO_N_JOBS`, see
`training.harness`), so two trainings with one config fit the same models.  `unseeded_estimators` lets training assert that nothing slipped through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from training import harness
from training.features import feature_builder_from_config
from training.preprocessing import build_preprocessor

if TYPE_CHECKING:
    from training.schema import Config

# Estimators whose `n_jobs` is deprecated and has no effect: setting it would warn.
_N_JOBS_DEPRECATED: tuple[type, ...] = (LogisticRegression,)


def _logistic_regression(section: Any) -> BaseEstimator:
    # Defaults (lbfgs, C=1.0, l1_ratio=0.0 i.e. L2) are left implicit: `penalty` is
    # deprecated since scikit-learn 1.8 and `multi_class` is gone.
    return LogisticRegression(max_iter=section.max_iter)


def _knn(section: Any) -> BaseEstimator:
    return KNeighborsClassifier(n_neighbors=section.n_neighbors)


def _svm(section: Any) -> BaseEstimator:
    # No probability=True (deprecated in 1.9, and it ran an internal, seeded CV):
    # scores come from decision_function instead.
    return SVC(C=section.C, kernel=section.kernel, gamma=section.gamma)


def _decision_tree(section: Any) -> BaseEstimator:
    return DecisionTreeClassifier(max_depth=section.max_depth, min_samples_leaf=section.min_samples_leaf)


def _random_forest(section: Any) -> BaseEstimator:
    return RandomForestClassifier(
        n_estimators=section.n_estimators, min_samples_leaf=section.min_samples_leaf
    )


_BUILDERS: dict[str, Callable[[Any], BaseEstimator]] = {
    "logistic_regression": _logistic_regression,
    "knn": _knn,
    "svm": _svm,
    "decision_tree": _decision_tree,
    "random_forest": _random_forest,
}


def build_estimators(config: Config) -> dict[str, BaseEstimator]:
    """Build the configured models by name, in the config's fixed order, seeded, with REPRO_N_JOBS jobs."""
    estimators: dict[str, BaseEstimator] = {}
    for name, section in config.models.present().items():
        if name not in _BUILDERS:
            raise ValueError(f"models.{name}: no estimator is known for this model name")
        estimators[name] = _pin(_BUILDERS[name](section), config.seed)
    return estimators


def _pin(estimator: BaseEstimator, seed: int) -> BaseEstimator:
    """Set random_state and n_jobs wherever the estimator accepts them."""
    params = estimator.get_params(deep=False)
    pinned: dict[str, Any] = {}
    if "random_state" in params:
        pinned["random_state"] = seed
    if "n_jobs" in params and not isinstance(estimator, _N_JOBS_DEPRECATED):
        pinned["n_jobs"] = harness.n_jobs()
    return estimator.set_params(**pinned)


def build_pipeline(config: Config, estimator: BaseEstimator) -> Pipeline:
    """Wrap an estimator with feature building and preprocessing, so one object goes from raw rows to scores."""
    return Pipeline(
        [
            ("features", feature_builder_from_config(config)),
            ("preprocess", build_preprocessor(config)),
            ("model", estimator),
        ]
    )


def unseeded_estimators(estimator: Any) -> list[str]:
    """Return the parameter paths whose random_state is None, so training can refuse to run unseeded.

    Paths use scikit-learn's `__` notation ("model__random_state"); a bare estimator's
    own parameter is "random_state".  The walk follows `get_params(deep=True)`, which
    reaches Pipeline steps, ColumnTransformer transformers and estimators held as
    parameters (e.g. a calibrator's base estimator); fitted or not makes no difference.
    A shuffling CV splitter held as a parameter (`cv=KFold(shuffle=True)`) has no
    get_params, so it is checked by its attribute and reported as "cv__random_state".
    """
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        return []
    found = []
    for path, value in estimator.get_params(deep=True).items():
        if path.rsplit("__", 1)[-1] == "random_state" and value is None:
            found.append(path)
        elif _is_unseeded_splitter(value):
            found.append(f"{path}__random_state")
    return sorted(found)


def _is_unseeded_splitter(value: Any) -> bool:
    if hasattr(value, "get_params") or not hasattr(value, "split"):
        return False
    # A splitter that does not shuffle is deterministic whatever its random_state.
    return getattr(value, "random_state", 0) is None and getattr(value, "shuffle", True)
