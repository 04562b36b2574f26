"""The demo signs its lineage when a key is set, stages the envelope first, and stops before fitting on a bad key."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from checkout import ROOT as REPO_ROOT

from pytest_repro.errors import ConfigError
from pytest_repro.lineage.publish import StagedCommit
from pytest_repro.lineage.signing import KEY_ENV, REQUIRE_ENV, envelope_path, verify_signature

KEY = bytes(range(32))


def _training(name: str) -> ModuleType:
    """A module of the demo, imported when a test runs: collecting this file must not import scikit-learn."""
    return importlib.import_module(f"training.{name}")


@pytest.fixture(autouse=True)
def _no_signing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)


@pytest.fixture
def fake_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real config and the real publishing step, with the slow fit replaced by a fixed result."""
    repo = REPO_ROOT
    config_path = tmp_path / "config.yaml"
    config_path.write_bytes((repo / "config.yaml").read_bytes())
    fitted = _training("fit").Fitted(
        pipeline={"fake": "model"},
        metrics={"selected_model": "fake", "threshold": {"value": 0.5}},
        drift={},
        folds=[[0, 1], [2, 3]],
        dataset_sha256="0" * 64,
    )
    monkeypatch.setattr(_training("fit"), "fit", lambda *args: fitted)
    return config_path


def test_training_signs_when_the_key_is_set_and_stages_the_envelope_first(
    fake_training: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    staged: list[str] = []
    original = StagedCommit.stage

    def record(self: StagedCommit, name: str, writer):
        staged.append(name)
        return original(self, name, writer)

    monkeypatch.setattr(StagedCommit, "stage", record)
    monkeypatch.setenv(KEY_ENV, KEY.hex())
    result = _training("run").train(fake_training, tmp_path / "out")
    assert staged[-2:] == ["lineage.json.dsse.json", "lineage.json"]
    assert verify_signature(Path(result["lineage"]), KEY, required=True).status == "signed"

    # Training again without a key removes the envelope that no longer matches.
    monkeypatch.delenv(KEY_ENV)
    result = _training("run").train(fake_training, tmp_path / "out")
    assert not envelope_path(Path(result["lineage"])).exists()
    assert verify_signature(Path(result["lineage"]), None, required=False).status == "unsigned"


def test_training_with_a_too_short_key_stops_before_fitting(
    fake_training: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(_training("fit"), "fit", lambda *args: pytest.fail("fitted despite a bad key"))
    monkeypatch.setenv(KEY_ENV, "abc")
    with pytest.raises(ConfigError, match="REPRO_SIGNING_KEY"):
        _training("run").train(fake_training, tmp_path / "out")


def test_training_with_a_missing_private_key_file_stops_before_fitting(
    fake_training: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(_training("fit"), "fit", lambda *args: pytest.fail("fitted despite a bad key"))
    monkeypatch.setenv("REPRO_PRIVATE_KEY", str(tmp_path / "gone.pem"))
    with pytest.raises(ConfigError, match=r"REPRO_PRIVATE_KEY: .*gone\.pem: key file not found"):
        _training("run").train(fake_training, tmp_path / "out")
    assert not (tmp_path / "out" / "lineage.json").exists()


def test_training_signs_with_an_ed25519_private_key_and_the_public_key_verifies(
    fake_training: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from pytest_repro.cli import repro_keygen as keygen
    from pytest_repro.lineage.ed25519 import PRIVATE_KEY_ENV, public_key_from

    assert keygen.main([str(tmp_path / "ci.pem")]) == 0
    monkeypatch.setenv(PRIVATE_KEY_ENV, str(tmp_path / "ci.pem"))
    envelopes = []
    for _ in range(2):  # the same training twice, into the same folder
        result = _training("run").train(fake_training, tmp_path / "out")
        envelopes.append(envelope_path(Path(result["lineage"])).read_bytes())
    public = public_key_from(str(tmp_path / "ci.pem.pub"))
    assert verify_signature(Path(result["lineage"]), public, required=True).status == "signed"
    assert envelopes[0] == envelopes[1]
