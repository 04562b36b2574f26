"""Lineage manifests: built without absolute paths, read strictly, verified file by file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_project import FakeProject, replace_entry, set_entry

from pytest_repro.errors import LineageError
from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.manifest import read_lineage
from pytest_repro.lineage.verify import resolve_entry, verify_lineage

FILES = FakeProject.FILES


def _lineage(project: Path, lineage_path: Path, hashes: dict[str, str] | None = None) -> dict[str, Any]:
    extra = {"hashes": hashes} if hashes is not None else {}
    return FakeProject(project).build_lineage(lineage_path=lineage_path, **extra)


@pytest.fixture
def project(fake_project) -> Path:
    """A project folder with a dataset, a config and artifacts of arbitrary bytes."""
    return fake_project.root


@pytest.fixture(params=["v2", "v1"])
def lineage_path(fake_project, request: pytest.FixtureRequest) -> Path:
    """The project's manifest, in today's format and in the version-1 format written before it."""
    if request.param == "v2":
        return fake_project.write_lineage()
    path = fake_project.lineage_path
    path.write_bytes(canonical_json(fake_project.build_v1_lineage()))
    return path


@pytest.fixture
def v1_lineage_path(fake_project) -> Path:
    path = fake_project.lineage_path
    path.write_bytes(canonical_json(fake_project.build_v1_lineage()))
    return path


def _rewrite(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_bytes(canonical_json(data))


def _recorded(lineage: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Every entry by name, whichever version wrote the manifest."""
    if lineage.get("schema_version", 1) == 1:
        return {name: lineage[name] for name in FILES if name in lineage}
    return {**lineage["inputs"], **lineage["outputs"]}


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- building


def test_lineage_paths_are_relative_to_the_root(lineage_path: Path):
    lineage = read_lineage(lineage_path)
    assert lineage["root"] == ".."
    assert {name: entry["path"] for name, entry in _recorded(lineage).items()} == FILES


def test_written_lineage_holds_no_absolute_path(tmp_path: Path, lineage_path: Path):
    text = lineage_path.read_text(encoding="utf-8")
    assert str(tmp_path) not in text
    assert str(tmp_path.resolve()) not in text
    assert '"/' not in text


def test_run_id_is_deterministic_for_the_same_hashes(project: Path, tmp_path: Path):
    path = project / "artifacts" / "lineage.json"
    elsewhere = tmp_path / "moved"
    assert _lineage(project, path)["run_id"] == _lineage(project, path)["run_id"]
    hashes = {name: sha256_file(project / relative) for name, relative in FILES.items()}
    # The same bytes in another folder are the same run.
    assert (
        _lineage(elsewhere, elsewhere / "artifacts" / "lineage.json", hashes)["run_id"]
        == (_lineage(project, path)["run_id"])
    )


@pytest.mark.parametrize("name", list(FILES))
def test_run_id_changes_when_a_hash_changes(project: Path, name: str):
    path = project / "artifacts" / "lineage.json"
    hashes = {entry: sha256_file(project / relative) for entry, relative in FILES.items()}
    changed = {**hashes, name: "f" * 64}
    assert _lineage(project, path, changed)["run_id"] != _lineage(project, path, hashes)["run_id"]


def test_lineage_records_seed_folds_and_environment(fake_project):
    lineage = read_lineage(fake_project.write_lineage())
    assert lineage["schema_version"] == 2
    assert lineage["seed"] == 42
    assert lineage["cv_folds"] == {"n_splits": 5, "sha256": "0" * 64}
    assert lineage["environment"]["packages"] == {"scikit-learn": "1.9.0"}
    assert lineage["code"] is None


# ---------------------------------------------------------------- verifying


def test_untouched_project_verifies(lineage_path: Path):
    report = verify_lineage(lineage_path)
    assert report.passed
    assert report.failures == ()
    assert sorted(check.name for check in report.checks) == sorted(FILES)


def test_verification_works_after_the_project_is_moved(project: Path, lineage_path: Path, tmp_path: Path):
    moved = project.rename(tmp_path / "clone")
    assert verify_lineage(moved / "artifacts" / "lineage.json").passed


@pytest.mark.parametrize("name", list(FILES))
def test_changed_byte_fails_that_check_only(project: Path, lineage_path: Path, name: str):
    _flip_one_byte(project / FILES[name])
    report = verify_lineage(lineage_path)
    assert not report.passed
    assert [failure.name for failure in report.failures] == [name]
    failure = report.failures[0]
    assert failure.actual == sha256_file(project / FILES[name])
    assert failure.expected != failure.actual
    assert FILES[name] in failure.describe()
    assert failure.name in failure.describe()


@pytest.mark.parametrize("name", list(FILES))
def test_missing_file_is_a_failed_check_not_an_exception(project: Path, lineage_path: Path, name: str):
    (project / FILES[name]).unlink()
    report = verify_lineage(lineage_path)
    assert [failure.name for failure in report.failures] == [name]
    failure = report.failures[0]
    assert failure.actual is None
    assert failure.error == "file not found"
    assert failure.describe() == f"{name}: {FILES[name]}: file not found"


def test_folder_in_place_of_a_file_is_a_failed_check(project: Path, lineage_path: Path):
    (project / FILES["metrics"]).unlink()
    (project / FILES["metrics"]).mkdir()
    report = verify_lineage(lineage_path)
    assert [failure.name for failure in report.failures] == ["metrics"]
    assert report.failures[0].error == "is a folder, not a file"


@pytest.mark.parametrize("name", ["metrics", "drift_baseline"])
def test_optional_entry_may_be_absent(v1_lineage_path: Path, name: str):
    lineage_path = v1_lineage_path
    _rewrite(lineage_path, lambda data: data.pop(name))
    report = verify_lineage(lineage_path)
    assert report.passed
    assert name not in report.to_report()["checks"]


def test_report_has_the_design_shape(project: Path, lineage_path: Path):
    _flip_one_byte(project / FILES["threshold"])
    lineage = read_lineage(lineage_path)
    report = verify_lineage(lineage_path).to_report()
    assert set(report) == {"run_id", "checks", "passed"}
    assert report["run_id"] == lineage["run_id"]
    assert report["passed"] is False
    assert sorted(report["checks"]) == sorted(FILES)
    for name, check in report["checks"].items():
        assert set(check) == {"path", "expected", "actual", "passed"}
        assert check["path"] == FILES[name]
        assert check["expected"] == _recorded(lineage)[name]["sha256"]
        assert check["passed"] is (name != "threshold")
    assert report["checks"]["threshold"]["actual"] == sha256_file(project / FILES["threshold"])
    json.dumps(report)  # plain JSON data


def test_report_of_a_missing_file_carries_the_error(project: Path, lineage_path: Path):
    (project / FILES["model"]).unlink()
    check = verify_lineage(lineage_path).to_report()["checks"]["model"]
    assert check == {
        "path": FILES["model"],
        "expected": _recorded(read_lineage(lineage_path))["model"]["sha256"],
        "actual": None,
        "passed": False,
        "error": "file not found",
    }


# ---------------------------------------------------------------- malformed manifests


def test_missing_lineage_says_to_run_training(tmp_path: Path):
    with pytest.raises(LineageError) as caught:
        verify_lineage(tmp_path / "artifacts" / "lineage.json")
    assert (
        str(caught.value)
        == f"Missing {(tmp_path / 'artifacts' / 'lineage.json').as_posix()}. Run training first."
    )


def test_malformed_json_is_a_lineage_error(lineage_path: Path):
    lineage_path.write_text('{"run_id": ', encoding="utf-8")
    with pytest.raises(LineageError, match="malformed lineage JSON at line 1"):
        verify_lineage(lineage_path)


def test_lineage_folder_is_a_lineage_error(tmp_path: Path):
    with pytest.raises(LineageError, match="is a folder"):
        read_lineage(tmp_path)


@pytest.mark.parametrize("name", ["dataset", "config", "model", "threshold"])
def test_version_1_requires_the_design_entries(v1_lineage_path: Path, name: str):
    _rewrite(v1_lineage_path, lambda data: data.pop(name))
    with pytest.raises(LineageError, match=f": {name}: missing required entry"):
        verify_lineage(v1_lineage_path)


def _set(*keys: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Change a key of the manifest; a file entry (or one of its fields) wherever the entry is recorded."""

    def change(data: dict[str, Any]) -> None:
        name, *field = keys
        if name not in FILES:
            data[name] = value
        elif field:
            set_entry(data, name, **{field[0]: value})
        else:
            replace_entry(data, name, value)

    return change


MALFORMED = [
    pytest.param(
        _set("model", value="best_model.joblib"), "model: expected an object", id="entry-not-object"
    ),
    pytest.param(
        _set("dataset", "path", value=5), "dataset.path: expected a non-empty string", id="path-int"
    ),
    pytest.param(
        _set("config", "path", value=""), "config.path: expected a non-empty string", id="path-empty"
    ),
    pytest.param(
        _set("metrics", "sha256", value=None), "metrics.sha256: expected a non-empty", id="sha-null"
    ),
    pytest.param(
        _set("threshold", "sha256", value="z" * 64), "threshold.sha256: not a lowercase hex", id="non-hex"
    ),
    pytest.param(
        _set("model", "sha256", value="A" * 64), "model.sha256: not a lowercase hex", id="upper-hex"
    ),
    pytest.param(_set("config", "sha256", value="abc"), "config.sha256: not a lowercase hex", id="short-hex"),
    pytest.param(_set("root", value=["..", "x"]), "root: expected a relative path", id="root-list"),
    pytest.param(_set("run_id", value=7), "run_id: expected a string", id="run-id-int"),
]


@pytest.mark.parametrize(("change", "message"), MALFORMED)
def test_malformed_entry_is_a_lineage_error_naming_the_key(lineage_path: Path, change: Any, message: str):
    _rewrite(lineage_path, change)
    with pytest.raises(LineageError) as caught:
        verify_lineage(lineage_path)
    assert message in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_top_level_array_is_a_lineage_error(lineage_path: Path):
    lineage_path.write_text("[]", encoding="utf-8")
    with pytest.raises(LineageError, match="top level must be a JSON object, got list"):
        verify_lineage(lineage_path)


# ---------------------------------------------------------------- unsafe manifests


def test_absolute_entry_path_is_rejected(project: Path, lineage_path: Path):
    _rewrite(lineage_path, _set("model", "path", value=str(project / FILES["model"])))
    with pytest.raises(LineageError, match=r"model\.path: absolute paths are not allowed"):
        verify_lineage(lineage_path)


def test_absolute_root_is_rejected(project: Path, lineage_path: Path):
    _rewrite(lineage_path, _set("root", value=str(project)))
    with pytest.raises(LineageError, match="root: must be a relative path"):
        verify_lineage(lineage_path)


@pytest.mark.parametrize("relative", ["../outside.bin", "artifacts/../../outside.bin"])
def test_dot_dot_escape_is_rejected(tmp_path: Path, lineage_path: Path, relative: str):
    (tmp_path / "outside.bin").write_bytes(b"secret")
    _rewrite(lineage_path, _set("model", "path", value=relative))
    with pytest.raises(LineageError, match=r"model\.path: path escapes outside the project root"):
        verify_lineage(lineage_path)


def test_dot_dot_that_stays_inside_the_root_is_allowed(project: Path, lineage_path: Path):
    _rewrite(lineage_path, _set("dataset", "path", value="artifacts/../ml_datasource.csv"))
    assert verify_lineage(lineage_path).passed


def test_symlinked_file_pointing_outside_is_rejected(tmp_path: Path, project: Path, lineage_path: Path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes((project / FILES["model"]).read_bytes())
    (project / "artifacts" / "link.joblib").symlink_to(outside)
    _rewrite(lineage_path, _set("model", "path", value="artifacts/link.joblib"))
    with pytest.raises(LineageError, match=r"model\.path: symbolic link points outside the project root"):
        verify_lineage(lineage_path)


def test_a_path_or_root_that_is_a_symbolic_link_loop_is_one_line(project: Path, lineage_path: Path):
    (project / "artifacts" / "a.joblib").symlink_to("b.joblib")
    (project / "artifacts" / "b.joblib").symlink_to("a.joblib")
    _rewrite(lineage_path, _set("model", "path", value="artifacts/a.joblib"))
    with pytest.raises(LineageError, match=r"model\.path: cannot be resolved: a symbolic link loop"):
        verify_lineage(lineage_path)
    (project / "loop").symlink_to("loop")
    _rewrite(lineage_path, lambda lineage: lineage.__setitem__("root", "../loop"))
    with pytest.raises(LineageError, match="root: cannot be resolved: a symbolic link loop"):
        verify_lineage(lineage_path)


def test_symlinked_folder_pointing_outside_is_rejected(tmp_path: Path, project: Path, lineage_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data.csv").write_bytes(b"x")
    (project / "linked").symlink_to(elsewhere, target_is_directory=True)
    _rewrite(lineage_path, _set("dataset", "path", value="linked/data.csv"))
    with pytest.raises(LineageError, match="symbolic link points outside"):
        verify_lineage(lineage_path)


def test_resolve_entry_accepts_a_path_inside_the_root(project: Path):
    resolved = resolve_entry(project.resolve(), FILES["model"], name="model", lineage_path=Path("l.json"))
    assert resolved == (project / FILES["model"]).resolve()


def test_resolve_entry_rejects_a_nul_byte(project: Path):
    with pytest.raises(LineageError, match="NUL byte"):
        resolve_entry(project.resolve(), "a\x00b", name="model", lineage_path=Path("l.json"))


# ---------------------------------------------------------------- the version-2 format, for any project


def test_any_names_and_no_required_entry(tmp_path: Path):
    from pytest_repro.lineage.writing import write_lineage

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_bytes(b"a,b\n1,2\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "weights.bin").write_bytes(b"\x00\x01")
    path = write_lineage(
        tmp_path / "out" / "lineage.json",
        inputs={"training data": tmp_path / "data" / "train.csv"},
        outputs={"weights": tmp_path / "out" / "weights.bin"},
        seed=7,
        folds=[[0, 2], [1, 3]],
        environment={},
        code=None,
        signing_key=None,
    )
    lineage = read_lineage(path)
    assert lineage["inputs"] == {
        "training data": {"path": "data/train.csv", "sha256": sha256_file(tmp_path / "data" / "train.csv")}
    }
    assert lineage["outputs"]["weights"]["path"] == "out/weights.bin"
    assert lineage["root"] == ".."
    assert lineage["cv_folds"]["n_splits"] == 2
    assert "model" not in lineage and "threshold" not in lineage
    assert verify_lineage(path).passed
    (tmp_path / "out" / "weights.bin").write_bytes(b"\x00\x02")
    assert [f.name for f in verify_lineage(path).failures] == ["weights"]


def test_a_mirror_that_disagrees_with_its_entry_is_refused(fake_project):
    path = fake_project.write_lineage()
    _rewrite(path, lambda data: data["model"].update(sha256="f" * 64))
    with pytest.raises(LineageError, match="model: differs from the output entry it repeats"):
        verify_lineage(path)


def test_a_top_level_entry_that_is_not_recorded_is_refused(fake_project):
    path = fake_project.write_lineage()
    _rewrite(path, lambda data: data.update(extra={"path": "x", "sha256": "0" * 64}))
    with pytest.raises(LineageError, match="extra: a top-level entry that is neither an input nor an output"):
        verify_lineage(path)


def test_the_same_name_as_input_and_output_is_refused(fake_project):
    path = fake_project.write_lineage()
    _rewrite(path, lambda data: data["outputs"].update(config=data["inputs"]["config"]))
    with pytest.raises(LineageError, match="config: both an input and an output"):
        verify_lineage(path)


def test_an_unknown_schema_version_is_refused(fake_project):
    path = fake_project.write_lineage()
    _rewrite(path, lambda data: data.update(schema_version=3))
    with pytest.raises(LineageError, match="schema_version: got 3; this version reads 1 and 2"):
        verify_lineage(path)
