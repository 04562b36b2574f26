"""Shared material for the diagnosis tests: a small dataset, forests fitted on it, and model files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import make_classification

    return make_classification(n_samples=120, n_features=8, random_state=0)


@pytest.fixture
def forest(data) -> Callable[[int | None], Any]:
    """Fit a five-tree forest with the given random_state."""
    from sklearn.ensemble import RandomForestClassifier

    def fit(random_state: int | None) -> Any:
        features, labels = data
        return RandomForestClassifier(n_estimators=5, random_state=random_state).fit(features, labels)

    return fit


@pytest.fixture
def dump_pair(tmp_path) -> Callable[..., tuple[Path, Path]]:
    """Write two models to run folders a/ and b/ under one file name, as two trainings would."""

    joblib = pytest.importorskip("joblib", reason="the model walk needs the sklearn extra")

    def dump(model_a: Any, model_b: Any, name: str = "best_model.joblib", **dump_b: Any) -> tuple[Path, Path]:
        path_a, path_b = tmp_path / "a" / name, tmp_path / "b" / name
        path_a.parent.mkdir(exist_ok=True)
        path_b.parent.mkdir(exist_ok=True)
        joblib.dump(model_a, path_a)
        joblib.dump(model_b, path_b, **dump_b)
        return path_a, path_b

    return dump
