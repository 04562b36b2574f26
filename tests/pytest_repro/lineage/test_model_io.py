"""load_model: nothing is unpickled unless the file is the one the lineage names, byte for byte."""

from __future__ import annotations

import json
import pathlib
import pickle
from pathlib import Path

import joblib
import pytest
from fake_project import FakeProject, set_entry

from pytest_repro.errors import LineageError, SignatureError
from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.model_loading import load_model
from pytest_repro.lineage.signing import KEY_ENV, REQUIRE_ENV, sign_lineage

KEY = bytes(range(32))
FILES = {
    "dataset": "data.csv",
    "config": "config.yaml",
    "model": "artifacts/best_model.joblib",
    "threshold": "artifacts/threshold.txt",
}


class _TouchOnUnpickle:
    """Pickles to a call of Path.touch(marker): unpickling it runs code, as any pickle may."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


@pytest.fixture(autouse=True)
def _no_signing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)


def _write_lineage(root: Path, files: dict[str, Path] | None = None) -> Path:
    project = FakeProject(root, FILES)
    return project.write_lineage(files=files or project.files, seed=0, environment={})


def _set_model_entry(lineage_path: Path, path: str, sha256: str) -> None:
    lineage = json.loads(lineage_path.read_text(encoding="utf-8"))
    set_entry(lineage, "model", path=path, sha256=sha256)
    lineage_path.write_bytes(canonical_json(lineage))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose lineage names a real, tiny fitted scikit-learn model."""
    from sklearn.linear_model import LogisticRegression

    root = tmp_path / "project"
    (root / "artifacts").mkdir(parents=True)
    (root / FILES["dataset"]).write_text("x,y\n0,0\n1,0\n2,1\n3,1\n", encoding="utf-8")
    (root / FILES["config"]).write_text("seed: 0\n", encoding="utf-8")
    (root / FILES["threshold"]).write_text("0.5\n", encoding="utf-8")
    model = LogisticRegression(random_state=0).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    joblib.dump(model, root / FILES["model"])
    _write_lineage(root)
    return root


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "unpickled.marker"


@pytest.fixture
def malicious(tmp_path: Path, marker: Path) -> bytes:
    data = pickle.dumps(_TouchOnUnpickle(marker))
    check = tmp_path / "control.pkl"  # the pickle really runs code when loaded unchecked
    check.write_bytes(data)
    joblib.load(check)
    assert marker.exists()
    marker.unlink()
    return data


def test_genuine_model_with_its_lineage_loads_and_predicts(project: Path):
    model = load_model(project / FILES["model"], project / "artifacts" / "lineage.json")
    assert list(model.predict([[0.0], [3.0]])) == [0, 1]


def test_malicious_pickle_with_another_hash_is_refused_without_unpickling(
    project: Path, malicious: bytes, marker: Path
):
    model_path = project / FILES["model"]
    recorded = sha256_file(model_path)
    model_path.write_bytes(malicious)
    with pytest.raises(LineageError) as raised:
        load_model(model_path, project / "artifacts" / "lineage.json")
    message = str(raised.value)
    assert str(model_path) in message
    assert recorded in message
    assert sha256_file(model_path) in message
    assert not marker.exists()


def test_absolute_model_path_in_lineage_is_rejected(
    project: Path, tmp_path: Path, malicious: bytes, marker: Path
):
    outside = tmp_path / "outside.joblib"
    outside.write_bytes(malicious)
    lineage_path = project / "artifacts" / "lineage.json"
    _set_model_entry(lineage_path, str(outside), sha256_file(outside))
    with pytest.raises(LineageError, match="absolute paths are not allowed"):
        load_model(outside, lineage_path)
    assert not marker.exists()


def test_dotdot_model_path_escaping_the_root_is_rejected(
    project: Path, tmp_path: Path, malicious: bytes, marker: Path
):
    outside = tmp_path / "outside.joblib"
    outside.write_bytes(malicious)
    lineage_path = project / "artifacts" / "lineage.json"
    _set_model_entry(lineage_path, "../outside.joblib", sha256_file(outside))
    with pytest.raises(LineageError, match="path escapes outside the project root"):
        load_model(outside, lineage_path)
    assert not marker.exists()


def test_symlinked_model_pointing_outside_the_root_is_rejected(
    project: Path, tmp_path: Path, malicious: bytes, marker: Path
):
    outside = tmp_path / "elsewhere" / "evil.joblib"
    outside.parent.mkdir()
    outside.write_bytes(malicious)
    model_path = project / FILES["model"]
    model_path.unlink()
    model_path.symlink_to(outside)
    lineage_path = project / "artifacts" / "lineage.json"
    _set_model_entry(lineage_path, FILES["model"], sha256_file(outside))
    with pytest.raises(LineageError, match="symbolic link points outside the project root"):
        load_model(model_path, lineage_path)
    assert not marker.exists()


def test_model_file_other_than_the_one_recorded_is_refused(project: Path):
    copy = project / "artifacts" / "copy.joblib"
    copy.write_bytes((project / FILES["model"]).read_bytes())
    with pytest.raises(LineageError, match="is not an output"):
        load_model(copy, project / "artifacts" / "lineage.json")


def test_missing_model_file_is_a_lineage_error(project: Path):
    (project / FILES["model"]).unlink()
    with pytest.raises(LineageError, match="model file not found"):
        load_model(project / FILES["model"], project / "artifacts" / "lineage.json")


def test_rewritten_lineage_and_model_fail_the_signature_before_unpickling(
    project: Path, malicious: bytes, marker: Path
):
    lineage_path = project / "artifacts" / "lineage.json"
    model_path = project / FILES["model"]
    sign_lineage(lineage_path, KEY)
    assert load_model(model_path, lineage_path, signing_key=KEY).predict([[3.0]])[0] == 1

    # An attacker who can write both files makes the hashes agree, but cannot re-sign.
    model_path.write_bytes(malicious)
    _set_model_entry(lineage_path, FILES["model"], sha256_file(model_path))
    with pytest.raises(SignatureError, match="changed after signing"):
        load_model(model_path, lineage_path, signing_key=KEY)
    assert not marker.exists()
