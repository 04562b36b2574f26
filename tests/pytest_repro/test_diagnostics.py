"""Tests for pytest_repro.diagnose.diagnostics: each diagnosis names what differs, and by how much."""

from __future__ import annotations

import functools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from pytest_repro.diagnose.diagnostics import (
    CHUNK_SIZE,
    Difference,
    diff_bytes,
    diff_folds,
    diff_json_files,
    diff_metrics,
    diff_model_files,
    diff_models,
    diff_threshold,
)
from pytest_repro.lineage.hashing import sha256_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=120, n_features=8, random_state=0)


def _forest(data, random_state):
    features, labels = data
    return RandomForestClassifier(n_estimators=5, random_state=random_state).fit(features, labels)


def _dump_pair(tmp_path, model_a, model_b, **dump_b):
    path_a, path_b = tmp_path / "a" / "best_model.joblib", tmp_path / "b" / "best_model.joblib"
    path_a.parent.mkdir()
    path_b.parent.mkdir()
    joblib.dump(model_a, path_a)
    joblib.dump(model_b, path_b, **dump_b)
    return path_a, path_b


# --------------------------------------------------------------------------- import cost


def test_importing_diagnostics_does_not_import_numpy_sklearn_or_joblib():
    code = (
        "import sys, pytest_repro.diagnose.diagnostics; "
        "print(sorted(m for m in ('numpy', 'sklearn', 'joblib', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- models


def test_unseeded_forests_are_diagnosed_with_the_cause_and_tree_statistics(tmp_path, data):
    path_a, path_b = _dump_pair(tmp_path, _forest(data, None), _forest(data, None))

    assert diff_bytes("best_model.joblib", path_a, path_b) is not None
    difference = diff_model_files(path_a, path_b)

    assert difference is not None
    assert difference.subject == "model"
    assert re.match(
        r"best_model\.joblib differs: (at least )?\d+ attribute paths? differs?$", difference.summary
    )
    assert difference.details[0] == "model.random_state is None: RandomForestClassifier is unseeded"
    text = difference.render()
    assert re.search(r"model\.estimators_: [1-5] of 5 estimators differ", text)
    # Each differing tree is described with counts: nodes, or elements of a node array.
    assert re.search(
        r"model\.estimators_\[\d\]\.tree_(\.\w+)?: (\d+ nodes != \d+ nodes|\d+ of \d+ elements differ)", text
    )
    assert re.search(r"model\.estimators_\[\d\]\.get_params\(\)\['random_state'\]: \d+ != \d+", text)
    assert "bytes: first difference at byte" in text


def test_seeded_forests_have_no_difference(tmp_path, data):
    path_a, path_b = _dump_pair(tmp_path, _forest(data, 0), _forest(data, 0))

    assert diff_bytes("best_model.joblib", path_a, path_b) is None
    assert diff_model_files(path_a, path_b) is None
    assert diff_models(_forest(data, 0), _forest(data, 0)) == []


def test_changed_hyperparameter_is_named_by_its_get_params_path(data):
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
    assert not any("unseeded" in line for line in lines)


def test_unseeded_estimator_is_listed_before_the_first_difference(data):
    features, labels = data
    a = Pipeline([("clf", LogisticRegression(C=1.0))]).fit(features, labels)
    b = Pipeline([("clf", LogisticRegression(C=2.0))]).fit(features, labels)

    lines = diff_models(a, b)

    assert lines[0] == "model.named_steps['clf'].random_state is None: LogisticRegression is unseeded"
    assert lines[1] == "model.named_steps['clf'].get_params()['C']: 1.0 != 2.0"


def test_equal_models_give_no_lines_even_when_unseeded(data):
    features, labels = data
    a = LogisticRegression().fit(features, labels)
    b = LogisticRegression().fit(features, labels)

    assert diff_models(a, b) == []


def test_equal_objects_with_different_pickled_bytes_are_explained(tmp_path, data):
    model = _forest(data, 0)
    path_a, path_b = _dump_pair(tmp_path, model, model, protocol=2)

    difference = diff_model_files(path_a, path_b)

    assert difference is not None
    assert difference.summary == (
        "best_model.joblib differs: objects equal; the pickled bytes differ, "
        "e.g. a set or dict ordering or a RandomState object"
    )
    assert difference.details[0].startswith("bytes: first difference at byte ")


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


# --------------------------------------------------------------------------- folds


def test_moved_fold_indices_are_counted_per_fold():
    folds_a = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    folds_b = [[0, 1, 2, 4], [3, 5, 6, 7], [8, 9, 10, 11]]

    difference = diff_folds(folds_a, folds_b)

    assert difference == Difference(
        "folds",
        "folds differ: 2 of 3 folds have different test indices",
        (
            "fold 1 of 3: 1 of 4 test indices differ",
            "fold 2 of 3: 1 of 4 test indices differ",
            "2 of 12 rows changed fold, e.g. row 3 fold 1 -> 2, row 4 fold 2 -> 1",
        ),
    )


def test_different_number_of_folds_is_reported():
    difference = diff_folds([[0, 1], [2, 3]], [[0, 1], [2], [3]])

    assert difference is not None
    assert difference.summary == "folds differ: 2 folds != 3 folds (1 of 2 shared folds differ)"
    assert "fold 2 of 3: 1 of 2 test indices differ (sizes 2 != 1)" in difference.details


def test_equal_folds_have_no_difference_and_reordered_folds_are_named():
    assert diff_folds([[0, 1], [2, 3]], [[0, 1], [2, 3]]) is None
    assert diff_folds(np.array([[0, 1], [2, 3]]), [[0, 1], [2, 3]]) is None

    difference = diff_folds([[0, 1], [2, 3]], [[2, 3], [0, 1]])

    assert difference is not None
    assert difference.details[0] == "the same folds in a different order"


# --------------------------------------------------------------------------- metrics


METRICS_A = {
    "cv": {"svm": {"mean_roc_auc": 0.931, "std_roc_auc": 0.0100}, "knn": {"mean_roc_auc": 0.8}},
    "best": "svm",
}


def test_metrics_name_each_differing_leaf_by_json_pointer_largest_first():
    b = {
        "cv": {"svm": {"mean_roc_auc": 0.925, "std_roc_auc": 0.0101}, "knn": {"mean_roc_auc": 0.7}},
        "best": "svm",
    }

    difference = diff_metrics(METRICS_A, b)

    assert difference is not None
    assert difference.subject == "metrics"
    assert (
        difference.summary == "metrics differ: 3 of 4 values differ, largest |Δ| 0.1 at /cv/knn/mean_roc_auc"
    )
    assert difference.details == (
        "/cv/knn/mean_roc_auc: 0.8 != 0.7 (|Δ| 0.1, relative 1.3e-01)",
        "/cv/svm/mean_roc_auc: 0.931 != 0.925 (|Δ| 0.006, relative 6.4e-03)",
        "/cv/svm/std_roc_auc: 0.01 != 0.0101 (|Δ| 0.0001, relative 9.9e-03)",
    )


def test_metric_differences_within_tolerance_count_as_equal():
    b = json.loads(json.dumps(METRICS_A))
    b["cv"]["svm"]["mean_roc_auc"] += 1e-9

    assert diff_metrics(METRICS_A, b) is not None
    assert diff_metrics(METRICS_A, b, tolerance=1e-6) is None

    b["best"] = "knn"
    difference = diff_metrics(METRICS_A, b, tolerance=1e-6)
    assert difference is not None
    assert difference.details == (
        "/best: 'svm' != 'knn'",
        "(1 numeric differences within tolerance 1e-06 ignored)",
    )


def test_keys_present_in_one_run_only_are_reported_first():
    b = {"cv": {"svm": {"mean_roc_auc": 0.931, "std_roc_auc": 0.0101}}, "best": "svm", "a/b": 1}

    difference = diff_metrics(METRICS_A, b)

    assert difference is not None
    assert difference.details == (
        "/cv/knn: only in run a ({'mean_roc_auc': 0.8})",
        "/a~1b: only in run b (1)",
        "/cv/svm/std_roc_auc: 0.01 != 0.0101 (|Δ| 0.0001, relative 9.9e-03)",
    )


def test_long_metric_reports_are_capped():
    a = {f"m{i:02}": float(i) for i in range(15)}
    b = {f"m{i:02}": float(i) + 1 for i in range(15)}

    difference = diff_metrics(a, b)

    assert difference is not None
    assert len(difference.details) == 11
    assert difference.details[-1] == "(+5 more)"


def test_negative_tolerance_is_rejected():
    with pytest.raises(ValueError, match="tolerance must be a non-negative number, got -1"):
        diff_metrics({}, {}, tolerance=-1)


def test_nan_metrics_are_equal_to_nan():
    assert diff_metrics({"x": math.nan}, {"x": math.nan}) is None


# --------------------------------------------------------------------------- thresholds


def test_threshold_difference_gives_both_values_and_delta():
    difference = diff_threshold("0.4132\n", "0.4127\n")

    assert difference == Difference(
        "threshold",
        "threshold differs: 0.4132 != 0.4127 (Δ -0.0005, relative 1.2e-03)",
        ("run a: '0.4132'", "run b: '0.4127'"),
    )


def test_threshold_whitespace_is_not_a_difference_but_spelling_is():
    assert diff_threshold("0.5\n", "0.5") is None

    spelled = diff_threshold("0.5", "0.50")
    assert spelled is not None
    assert spelled.summary == "threshold text differs but the value is equal: '0.5' vs '0.50'"

    unparsed = diff_threshold("0.5", "high")
    assert unparsed is not None
    assert unparsed.details[-1] == "not a number in run b"


# --------------------------------------------------------------------------- bytes


def test_identical_files_have_no_difference(tmp_path):
    (tmp_path / "a").write_bytes(b"same bytes")
    (tmp_path / "b").write_bytes(b"same bytes")

    assert diff_bytes("x", tmp_path / "a", tmp_path / "b") is None


def test_first_differing_offset_line_sizes_and_hashes_are_reported(tmp_path):
    path_a, path_b = tmp_path / "a.txt", tmp_path / "b.txt"
    path_a.write_text("alpha\nbeta\ngamma\n")
    path_b.write_text("alpha\nbetA\ngamma\n")

    difference = diff_bytes("threshold.txt", path_a, path_b)

    assert difference == Difference(
        "threshold.txt",
        "threshold.txt differs: first difference at byte 9 (both 17 bytes)",
        (
            "first differing line 2: 'beta\\n' != 'betA\\n'",
            f"run a: {path_a} (17 bytes, sha256 {sha256_file(path_a)})",
            f"run b: {path_b} (17 bytes, sha256 {sha256_file(path_b)})",
        ),
    )


def test_a_prefix_file_is_reported_as_a_prefix(tmp_path):
    path_a, path_b = tmp_path / "a.txt", tmp_path / "b.txt"
    path_a.write_text("alpha\n")
    path_b.write_text("alpha\nbeta\n")

    forward = diff_bytes("f", path_a, path_b)
    backward = diff_bytes("f", path_b, path_a)

    assert forward is not None and backward is not None
    assert forward.summary == "f differs: run a (6 bytes) is a prefix of run b (11 bytes)"
    assert forward.details[0] == "first differing line 2: <end of file> != 'beta\\n'"
    assert backward.summary == "f differs: run b (6 bytes) is a prefix of run a (11 bytes)"


@pytest.mark.parametrize("offset", [0, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 5, 3 * CHUNK_SIZE + 17])
def test_first_differing_offset_is_exact_across_chunk_boundaries(tmp_path, offset):
    content = bytes(range(256)) * (4 * CHUNK_SIZE // 256)
    changed = bytearray(content)
    changed[offset] ^= 0xFF
    (tmp_path / "a.bin").write_bytes(content)
    (tmp_path / "b.bin").write_bytes(bytes(changed))

    difference = diff_bytes("data.bin", tmp_path / "a.bin", tmp_path / "b.bin")

    assert difference is not None
    assert (
        difference.summary
        == f"data.bin differs: first difference at byte {offset} (both {len(content)} bytes)"
    )
    assert not any(line.startswith("first differing line") for line in difference.details)


def test_a_file_missing_in_one_run_is_named(tmp_path):
    (tmp_path / "a").write_bytes(b"x")

    difference = diff_bytes("x", tmp_path / "a", tmp_path / "missing")

    assert difference is not None
    assert difference.summary == "x differs: missing in run b"


def test_render_indents_details_under_the_summary():
    difference = Difference("threshold", "threshold differs", ["run a: '1'", "run b: '2'"])

    assert difference.details == ("run a: '1'", "run b: '2'")
    assert difference.render() == "threshold differs\n  run a: '1'\n  run b: '2'"


# --------------------------------------------------------------------------- JSON files


def test_json_files_are_compared_value_by_value_after_bytes(tmp_path):
    path_a, path_b = tmp_path / "a.json", tmp_path / "b.json"
    path_a.write_text(json.dumps({"psi": {"age": 0.1}}))
    path_b.write_text(json.dumps({"psi": {"age": 0.3}}))

    difference = diff_json_files("drift_baseline", path_a, path_b)

    assert difference is not None
    assert difference.subject == "drift_baseline"
    assert difference.summary == "drift_baseline differs: 1 of 1 values differ, largest |Δ| 0.2 at /psi/age"
    assert difference.details[0] == "/psi/age: 0.1 != 0.3 (|Δ| 0.2, relative 6.7e-01)"
    assert difference.details[1].startswith("bytes: first difference at byte")
    assert diff_json_files("drift_baseline", path_a, path_b, tolerance=0.5) is None


def test_json_files_differing_only_in_formatting_say_so(tmp_path):
    path_a, path_b = tmp_path / "a.json", tmp_path / "b.json"
    path_a.write_text(json.dumps({"x": 1, "y": 2}))
    path_b.write_text(json.dumps({"y": 2, "x": 1}, indent=2))

    difference = diff_json_files("metrics.json", path_a, path_b)

    assert difference is not None
    assert difference.summary == (
        "metrics.json differs: the JSON values are equal; only formatting or key order differs"
    )


def test_invalid_json_falls_back_to_the_byte_report(tmp_path):
    path_a, path_b = tmp_path / "a.json", tmp_path / "b.json"
    path_a.write_text("{}")
    path_b.write_text("{broken")

    difference = diff_json_files("metrics.json", path_a, path_b)

    assert difference is not None
    assert difference.summary == "metrics.json differs: first difference at byte 1 (sizes 2 != 7 bytes)"
    assert difference.details[0].startswith("not valid JSON in run b: ")
