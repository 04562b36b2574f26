"""scripts/reproducibility_check.py end to end: exit codes, report files and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from checkout import ROOT as REPO
from fake_project import FakeProject, set_entry

from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_bytes
from pytest_repro.lineage.publish import JOURNAL_NAME

SCRIPT = REPO / "scripts" / "reproducibility_check.py"
MISSING = "Missing artifacts/lineage.json. Run training first."
FILES = FakeProject.FILES


def _write_lineage(root: Path, lineage_path: Path) -> None:
    FakeProject(root).write_lineage(lineage_path=lineage_path)


@pytest.fixture
def project(fake_project: FakeProject) -> Path:
    """A trained-looking project: inputs, artifacts of arbitrary bytes, and their lineage."""
    fake_project.write_lineage()
    return fake_project.root


def _check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _report(folder: Path) -> dict:
    return json.loads((folder / "reproducibility_report.json").read_text(encoding="utf-8"))


def test_untouched_project_passes_and_writes_both_reports(project: Path):
    result = _check(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = _report(project / "artifacts")
    assert report["passed"] is True
    assert set(report["checks"]) == set(FILES)
    assert all(check["passed"] for check in report["checks"].values())
    assert json.loads(result.stdout) == report


def test_environment_report_has_the_design_fields(project: Path):
    assert _check(project).returncode == 0
    environment = json.loads(
        (project / "artifacts" / "reproducibility_environment.json").read_text(encoding="utf-8")
    )
    assert set(environment) == {"python_version", "platform", "cwd"}
    assert environment["python_version"] == sys.version
    assert Path(environment["cwd"]).resolve() == project.resolve()


@pytest.mark.parametrize("name", ["dataset", "model"])  # every entry is covered in test_lineage.py
def test_tampered_file_fails_with_exit_1_and_is_named(project: Path, name: str):
    path = project / FILES[name]
    path.write_bytes(path.read_bytes() + b"tampered")
    result = _check(project)
    assert result.returncode == 1
    assert f"FAILED {name}: {FILES[name]}: SHA-256 is" in result.stderr
    assert "Traceback" not in result.stderr
    report = _report(project / "artifacts")
    assert report["passed"] is False
    assert [key for key, check in report["checks"].items() if not check["passed"]] == [name]


def test_deleted_artifact_fails_with_exit_1(project: Path):
    (project / FILES["model"]).unlink()
    result = _check(project)
    assert result.returncode == 1
    assert f"FAILED model: {FILES['model']}: file not found" in result.stderr
    assert _report(project / "artifacts")["checks"]["model"]["actual"] is None


@pytest.mark.parametrize("artifacts_folder", [True, False], ids=["empty-artifacts", "no-artifacts"])
def test_missing_lineage_says_to_run_training(tmp_path: Path, artifacts_folder: bool):
    if artifacts_folder:
        (tmp_path / "artifacts").mkdir()
    result = _check(tmp_path)
    assert result.returncode == 1
    assert MISSING in result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {MISSING}"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "artifacts" / "reproducibility_report.json").exists()


def test_lineage_option_checks_another_manifest(project: Path):
    (project / "artifacts" / "lineage.json").unlink()
    _write_lineage(project, project / "other" / "path.json")
    result = _check(project, "--lineage", "other/path.json")
    assert result.returncode == 0, result.stderr
    assert _report(project / "other")["passed"] is True
    assert (project / "other" / "reproducibility_environment.json").is_file()


def test_lineage_option_reports_a_tampered_file(project: Path):
    _write_lineage(project, project / "other" / "path.json")
    path = project / FILES["dataset"]
    path.write_bytes(b"different dataset")
    result = _check(project, "--lineage", "other/path.json")
    assert result.returncode == 1
    assert FILES["dataset"] in result.stderr
    assert _report(project / "other")["passed"] is False


@pytest.mark.parametrize("content", ["{not json", '{"run_id": "x"}', "[]", ""])
def test_malformed_lineage_is_one_line_without_traceback(project: Path, content: str):
    (project / "artifacts" / "lineage.json").write_text(content, encoding="utf-8")
    result = _check(project)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: artifacts/lineage.json: ")
    assert "Traceback" not in result.stderr


def test_unsafe_lineage_path_is_one_line_without_traceback(project: Path):
    lineage_path = project / "artifacts" / "lineage.json"
    lineage = json.loads(lineage_path.read_text(encoding="utf-8"))
    set_entry(lineage, "model", path="../../etc/passwd")
    lineage_path.write_bytes(canonical_json(lineage))
    result = _check(project)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "outside the project root" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_report_option_writes_nothing(project: Path):
    result = _check(project, "--no-report")
    assert result.returncode == 0, result.stderr
    assert not (project / "artifacts" / "reproducibility_report.json").exists()
    assert not (project / "artifacts" / "reproducibility_environment.json").exists()


def test_unknown_option_is_a_usage_error(project: Path):
    result = _check(project, "--bogus")
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr
    assert "Traceback" not in result.stderr


def test_absolute_lineage_option_is_accepted(project: Path):
    result = _check(project, "--lineage", str(project / "artifacts" / "lineage.json"))
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_a_pending_commit_fails_the_check_which_renames_nothing_until_load_model_finishes_it(project: Path):
    # A training killed after writing its journal: new model and lineage staged, not yet renamed.
    import joblib

    artifacts = project / "artifacts"
    joblib.dump({"weights": [1, 2, 3]}, artifacts / "staged-model")
    new_model = (artifacts / "staged-model").read_bytes()
    (artifacts / "staged-model").unlink()
    lineage = json.loads((artifacts / "lineage.json").read_text(encoding="utf-8"))
    set_entry(lineage, "model", sha256=sha256_bytes(new_model))
    staged = {".best_model.joblib.1.staged": new_model, ".lineage.json.2.staged": canonical_json(lineage)}
    for name, data in staged.items():
        (artifacts / name).write_bytes(data)
    renames = [
        [".best_model.joblib.1.staged", "best_model.joblib"],
        [".lineage.json.2.staged", "lineage.json"],
    ]
    (artifacts / JOURNAL_NAME).write_text(json.dumps({"renames": renames}), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in artifacts.iterdir()}

    result = _check(project)

    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "error: artifacts/.commit.json: an interrupted commit is pending (best_model.joblib, lineage.json); "
        "the check renames nothing: train again, or load the model with load_model, to finish it"
    ]
    assert {p.name: p.read_bytes() for p in artifacts.iterdir()} == before

    load = (
        "import warnings; from pytest_repro.lineage import load_model; warnings.simplefilter('always'); "
        "print(load_model('artifacts/best_model.joblib', 'artifacts/lineage.json'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", load], cwd=project, capture_output=True, text=True, timeout=60, check=False
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "{'weights': [1, 2, 3]}"
    said = "finished an interrupted commit before loading: published best_model.joblib, lineage.json"
    assert said in loaded.stderr
    assert (artifacts / "best_model.joblib").read_bytes() == new_model
    assert not (artifacts / JOURNAL_NAME).exists()
    assert not list(artifacts.glob(".*.staged"))
    assert _check(project).returncode == 0


def test_a_lineage_outside_the_working_directory_is_checked_within_the_folder_above_its_own(
    project: Path, tmp_path: Path
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = _check(elsewhere, "--lineage", str(project / "artifacts" / "lineage.json"), "--no-report")

    assert result.returncode == 0, result.stderr


def test_an_outside_lineage_whose_root_climbs_higher_needs_an_explicit_root(project: Path, tmp_path: Path):
    lineage_path = project / "artifacts" / "lineage.json"
    lineage = json.loads(lineage_path.read_text(encoding="utf-8"))
    lineage["root"] = "../.."
    lineage_path.write_bytes(canonical_json(lineage))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    refused = _check(elsewhere, "--lineage", str(lineage_path), "--no-report")
    explicit = _check(elsewhere, "--lineage", str(lineage_path), "--no-report", "--root", str(project.parent))

    assert refused.returncode == 1
    assert "resolves outside the project root" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "outside the project root" not in explicit.stderr  # the root is allowed; the paths no longer match
