"""compare_artifact chooses a diagnosis by what the files hold, never by the artifact's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_repro.core.run_records import RunRecord
from pytest_repro.diagnose.compare import (
    MissingArtifact,
    compare_artifact,
    compare_every_artifact,
    compare_runs,
)


def _runs(tmp_path: Path, name: str, file_name: str, write) -> tuple[RunRecord, RunRecord]:
    records = []
    for label in ("run-a", "run-b"):
        folder = tmp_path / label
        folder.mkdir(parents=True, exist_ok=True)
        write(folder / file_name, label)
        records.append(RunRecord(label, folder, {name: folder / file_name}, {}, None, {}, None, 0.0))
    return records[0], records[1]


def test_a_pickled_model_under_any_name_is_walked_from_that_name(tmp_path, forest):
    joblib = pytest.importorskip("joblib")
    a, b = _runs(tmp_path, "weights", "clf.bin", lambda path, _: joblib.dump(forest(None), path, compress=3))

    difference = compare_artifact("weights", a, b)

    assert difference is not None
    assert difference.subject == "weights"
    assert difference.summary.startswith("clf.bin differs: ")
    assert difference.details[0].startswith("weights.estimators_: ")
    assert "candidate cause: weights RandomForestClassifier has random_state=None" in difference.details


def test_json_without_a_json_suffix_is_compared_leaf_by_leaf(tmp_path):
    def write(path, label):
        path.write_text(json.dumps({"psi": {"age": 0.1 if label == "run-a" else 0.3}}))

    a, b = _runs(tmp_path, "report", "report.out", write)

    difference = compare_artifact("report", a, b)

    assert difference is not None
    assert difference.summary == "report differs: 1 of 1 values differ, largest |Δ| 0.2 at /psi/age"


def test_a_text_holding_one_number_is_compared_as_a_number(tmp_path):
    a, b = _runs(
        tmp_path,
        "cutoff",
        "cutoff.txt",
        lambda path, label: path.write_text("0.41\n" if label == "run-a" else "0.43\n"),
    )

    difference = compare_artifact("cutoff", a, b)

    assert difference is not None
    assert difference.summary == "cutoff differs: first difference at byte 3 (both 5 bytes)"
    assert difference.details[0] == "cutoff differs: 0.41 != 0.43 (Δ +0.02, relative 4.7e-02)"


def test_other_files_are_compared_as_bytes_and_equal_files_not_at_all(tmp_path):
    a, b = _runs(
        tmp_path, "changelog", "notes.txt", lambda path, label: path.write_text(f"trained by {label}\n")
    )
    same_a, same_b = _runs(tmp_path / "same", "changelog", "notes.txt", lambda path, _: path.write_text("x"))

    difference = compare_artifact("changelog", a, b)

    assert difference is not None
    assert difference.summary == "changelog differs: first difference at byte 15 (both 17 bytes)"
    assert compare_artifact("changelog", same_a, same_b) is None


def test_an_artifact_missing_from_a_run_is_named(tmp_path):
    a, b = _runs(tmp_path, "notes", "notes.txt", lambda path, _: path.write_text("x"))
    b = RunRecord("run-b", b.output_dir, {}, {}, None, {}, None, 0.0)

    with pytest.raises(
        MissingArtifact, match="run-b returned no artifact named 'notes' \\(it returned: none\\)"
    ):
        compare_artifact("notes", a, b)
    assert [d.subject for d in compare_runs(a, b)] == ["notes"]


def test_every_artifact_is_compared_in_one_difference_naming_those_that_differ(tmp_path):
    records = []
    for label, cutoff in (("run-a", "0.41\n"), ("run-b", "0.43\n")):
        folder = tmp_path / label
        folder.mkdir()
        (folder / "cutoff.txt").write_text(cutoff)
        (folder / "config.txt").write_text("same\n")
        artifacts = {"cutoff": folder / "cutoff.txt", "config": folder / "config.txt"}
        records.append(RunRecord(label, folder, artifacts, {}, None, {}, None, 0.0))
    a, b = records

    difference = compare_every_artifact(a, b)

    assert difference is not None
    assert difference.summary == "1 of 2 artifacts differ: cutoff"
    assert difference.details[:2] == (
        "cutoff differs: first difference at byte 3 (both 5 bytes)",
        "  cutoff differs: 0.41 != 0.43 (Δ +0.02, relative 4.7e-02)",
    )
    assert compare_every_artifact(a, a) is None
