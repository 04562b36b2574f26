"""JSON leaf by leaf: each differing leaf named by its JSON pointer, with |Δ| and the relative error."""

from __future__ import annotations

import json
import math

from pytest_repro.diagnose.json_diff import diff_json_files, diff_metrics

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


def test_nan_metrics_are_equal_to_nan():
    assert diff_metrics({"x": math.nan}, {"x": math.nan}) is None


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
