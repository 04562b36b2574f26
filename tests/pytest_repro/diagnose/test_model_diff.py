"""The model walk in memory: differing attribute paths first, then unseeded estimators as candidate causes."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

from pytest_repro.diagnose.model_diff import diff_models


def test_changed_hyperparameter_is_named_by_its_get_params_path(data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = data

    def pipeline(c):
        steps = [("scale", StandardScaler()), ("clf", LogisticRegression(C=c, random_state=0))]
        return Pipeline(steps).fit(features, labels)

    lines = diff_models(pipeline(1.0), pipeline(0.5))

    # Parameters come first: they usually explain the fitted differences below them.
    assert lines[0] == "model.named_steps['clf'].get_params()['C']: 1.0 != 0.5"
    assert any(
        re.match(
            r"model\.named_steps\['clf'\]\.coef_: 8 of 8 elements differ, max \|Δ\| \S+ \(max relative \S+\)",
            line,
        )
        for line in lines
    )
    assert not any("scale" in line for line in lines)
    assert not any("unseeded" in line or "candidate cause" in line for line in lines)


def test_first_line_names_the_changed_parameter_not_an_unseeded_deterministic_estimator(data):
    # lbfgs uses no randomness: random_state=None is not why these runs differ, C is.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = data

    def pipeline(c):
        return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=c))]).fit(features, labels)

    lines = diff_models(pipeline(1.0), pipeline(2.0))

    assert lines[0] == "model.named_steps['clf'].get_params()['C']: 1.0 != 2.0"
    assert not any("random_state" in line or "candidate cause" in line for line in lines)


def test_unseeded_forest_whose_trees_differ_is_named_as_a_candidate_cause(data):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = data

    def pipeline():
        steps = [("scale", StandardScaler()), ("forest", RandomForestClassifier(n_estimators=5))]
        return Pipeline(steps).fit(features, labels)

    lines = diff_models(pipeline(), pipeline())

    assert lines[0] == "model.named_steps['forest'].estimators_: 5 of 5 estimators differ"
    assert (
        lines[-1]
        == "candidate cause: model.named_steps['forest'] RandomForestClassifier has random_state=None"
    )
    assert sum("candidate cause" in line for line in lines) == 1


def test_paths_start_at_the_root_the_caller_names(data):
    from sklearn.linear_model import LogisticRegression

    features, labels = data
    a = LogisticRegression(C=1.0).fit(features, labels)
    b = LogisticRegression(C=2.0).fit(features, labels)

    assert diff_models(a, b, root="weights")[0] == "weights.get_params()['C']: 1.0 != 2.0"


def test_equal_models_give_no_lines_even_when_unseeded(data):
    from sklearn.linear_model import LogisticRegression

    features, labels = data
    a = LogisticRegression().fit(features, labels)
    b = LogisticRegression().fit(features, labels)

    assert diff_models(a, b) == []


def test_array_differences_report_counts_and_largest_differences_with_nan_equal_to_nan():
    a = np.array([1.0, 2.0, np.nan, 4.0])
    b = np.array([1.0, 2.5, np.nan, 4.0])

    assert diff_models(a, b) == [
        "model: 1 of 4 elements differ, max |Δ| 0.5 (max relative 2.0e-01); first at [1]: 2.0 != 2.5"
    ]
    assert diff_models(a, a.copy()) == []
    assert diff_models(np.zeros(3), np.zeros(4)) == ["model: shape (3,) != (4,)"]


def test_object_arrays_are_compared_elementwise():
    a = np.array(["low", "mid", "high"], dtype=object)
    b = np.array(["low", "MID", "high"], dtype=object)

    assert diff_models({"classes_": a}, {"classes_": b}) == [
        "model['classes_']: 1 of 3 elements differ; first at [1]: 'mid' != 'MID'"
    ]


def test_report_stops_after_max_paths_differences():
    a = {f"k{i}": i for i in range(20)}
    b = {f"k{i}": i + 1 for i in range(20)}

    lines = diff_models(a, b, max_paths=3)

    assert lines == [
        "model['k0']: 0 != 1",
        "model['k1']: 1 != 2",
        "model['k2']: 2 != 3",
        "(stopped after 3 differing paths; more differ)",
    ]


def test_cycles_and_unknown_types_do_not_crash():
    cyclic_a: list = [1]
    cyclic_a.append(cyclic_a)
    cyclic_b: list = [2]
    cyclic_b.append(cyclic_b)

    class Slotted:
        __slots__ = ("value",)

        def __init__(self, value):
            self.value = value

    class BrokenEquality:
        def __init__(self, value):
            self.value = value

        def __eq__(self, other):
            raise RuntimeError("no")

        __hash__ = object.__hash__

    assert diff_models(cyclic_a, cyclic_b) == ["model[0]: 1 != 2"]
    assert diff_models(Slotted(1), Slotted(1)) == []
    assert diff_models(Slotted(1), Slotted(2)) == ["model.value: 1 != 2"]
    (line,) = diff_models(functools.partial(int, "1"), functools.partial(int, "2"))
    assert line.startswith("model: partial pickles differently (first difference at byte ")
    assert diff_models(BrokenEquality(1), BrokenEquality(2)) == ["model.value: 1 != 2"]


def test_invalid_max_paths_is_rejected_with_its_value():
    with pytest.raises(ValueError, match="max_paths must be a positive integer, got 0"):
        diff_models(1, 2, max_paths=0)
