"""A command's metrics file is read by its extension: JSON, YAML, or CSV in either of its two shapes."""

from __future__ import annotations

import pytest

from pytest_repro.core.entry_points import ContractError
from pytest_repro.running.metrics_file import read_metrics_file


@pytest.mark.parametrize(
    ("name", "text", "metrics"),
    [
        (
            "m.json",
            '{"auc": 0.9, "confusion": [[1, 2], [3, 4]]}',
            {"auc": 0.9, "confusion": [[1, 2], [3, 4]]},
        ),
        ("m.yaml", "auc: 0.9\nper_class: {a: 1, b: 2}\n", {"auc": 0.9, "per_class": {"a": 1, "b": 2}}),
        ("m.yml", "auc: .nan\n", None),
        ("m.csv", "accuracy,f1,n\n0.91,0.88,120\n", {"accuracy": 0.91, "f1": 0.88, "n": 120}),
        ("m.csv", "metric,value\nauc,0.9\n", {"auc": 0.9}),
        ("m.csv", "name,value\nauc,0.9\nf1,0.8\n", {"auc": 0.9, "f1": 0.8}),
        ("m.csv", "auc,0.9\nf1,0.8\n", {"auc": 0.9, "f1": 0.8}),
        ("m.csv", "\ufeffmodel,auc\nforest,0.9\n", {"model": "forest", "auc": 0.9}),
    ],
)
def test_a_metrics_file_is_read_by_its_extension(tmp_path, name, text, metrics):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    found = read_metrics_file(path, f"repro_metrics {name!r}")

    if metrics is None:  # NaN is kept as NaN, which the comparison treats as equal to itself
        assert found["auc"] != found["auc"]
    else:
        assert found == metrics


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.txt", "auc 0.9", "expected a JSON (.json), YAML (.yaml, .yml) or CSV (.csv) file"),
        ("m.json", "[0.9]", "expected a mapping of metric names to values, got list"),
        ("m.yaml", "auc: [", "not a YAML file"),
        ("m.yaml", "when: 2024-01-01\n", "holds a value that is not a number"),
        ("m.csv", "", "the CSV file is empty"),
        ("m.csv", "a,b,c\n1,2,3\n4,5,6\n", "expected a header row and one row of values, or two columns"),
        ("m.csv", "a,b\n1\n", "the header names 2 metrics, the row below it holds 1 values"),
        ("m.csv", "name,value\nauc,1\nauc,2\n", "line 3 repeats the metric 'auc'"),
        ("m.csv", "0.5,0.9\n0.6,0.8\n", "line 1 names no metric ('0.5')"),
    ],
)
def test_a_metrics_file_that_holds_no_metrics_mapping_is_one_contract_error(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ContractError, match=r"^repro_metrics 'reports/m\.\w+': ") as raised:
        read_metrics_file(path, f"repro_metrics 'reports/{name}'")

    assert message in str(raised.value)


def test_a_missing_metrics_file_says_the_command_wrote_none(tmp_path):
    with pytest.raises(ContractError, match="the command wrote no such file"):
        read_metrics_file(tmp_path / "metrics.json", "repro_metrics 'metrics.json'")
