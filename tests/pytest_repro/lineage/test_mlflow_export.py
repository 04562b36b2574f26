"""repro-export mlflow: a verified lineage logged to a real local MLflow tracking store, read back with MlflowClient."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fake_project import FakeProject

from pytest_repro.cli import repro_keygen as keygen
from pytest_repro.cli.repro_export import MLFLOW_CLIENT_DEFAULTS, main
from pytest_repro.lineage.ed25519 import PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, private_key_from
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.signing import KEY_ENV, REQUIRE_ENV, envelope_path, sign_lineage

pytestmark = pytest.mark.slow  # importing MLflow and creating a store takes seconds

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CONFIG = "seed: 11\nmodel:\n  C: 0.5\n  kind: svm\n  layers: [3, 4]\ndata:\n  test_size: 0.25\n"
METRICS = {
    "selected_model": "svm",
    "test": {"precision": 0.85, "roc_auc": 0.97, "confusion": [[1, 2], [3, 4]]},
    "cv": {"mean f1": 0.5, "n_splits": 5},
    "converged": True,
}
FILES = {
    "dataset": "data/rows.csv",
    "config": "config.yaml",
    "model": "artifacts/model.pkl",
    "metrics": "artifacts/metrics.json",
}


@pytest.fixture
def mlflow():
    """MLflow itself, imported only by the tests that read a run back (never at collection)."""
    return pytest.importorskip(
        "mlflow", reason="the mlflow extra is not installed (pip install 'pytest-repro[mlflow]')"
    )


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (KEY_ENV, PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, REQUIRE_ENV, "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    # Set here so that the export's own defaults for them never outlive a test.
    for name, value in MLFLOW_CLIENT_DEFAULTS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeProject:
    """A trained-looking project signed with an Ed25519 key; the working directory; only the public key configured."""
    fake = FakeProject(tmp_path / "project", FILES)
    contents = {"config": CONFIG.encode(), "metrics": json.dumps(METRICS).encode()}
    fake.write_files({name: contents.get(name, f"{name} bytes\n".encode()) for name in FILES})
    fake.write_lineage(seed=11, code={"git_commit": COMMIT, "dirty": True})
    assert keygen.main([str(tmp_path / "signing.pem")]) == 0
    sign_lineage(fake.lineage_path, private_key_from(str(tmp_path / "signing.pem")))
    monkeypatch.setenv(PUBLIC_KEY_ENV, str(tmp_path / "signing.pem.pub"))
    monkeypatch.chdir(fake.root)
    return fake


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()
    }


def _export(capsys: pytest.CaptureFixture[str], uri: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["mlflow", "--tracking-uri", uri, "--experiment", "repro-tests", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_verified_lineage_is_logged_and_reads_back_through_the_client(
    mlflow, project: FakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    uri = (tmp_path / "mlruns").as_uri()
    before = _snapshot(project.root)
    code, out, err = _export(capsys, uri)
    assert code == 0, err
    run_id = out.split("MLflow run ")[1].split()[0]

    run = mlflow.MlflowClient(tracking_uri=uri).get_run(run_id)
    lineage = json.loads(project.lineage_path.read_text(encoding="utf-8"))
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == COMMIT
    assert tags["repro.run_id"] == lineage["run_id"]
    assert tags["repro.code.dirty"] == "true"
    assert tags["repro.signature"] == "signed"
    assert tags["repro.signature.keyids"] == private_key_from(str(tmp_path / "signing.pem")).keyid
    assert run.data.params == {
        "seed": "11",
        "config.seed": "11",
        "config.model.C": "0.5",
        "config.model.kind": "svm",
        "config.model.layers": "[3, 4]",
        "config.data.test_size": "0.25",
    }
    assert run.data.metrics == {
        "test.precision": 0.85,
        "test.roc_auc": 0.97,
        "cv.mean f1": 0.5,
        "cv.n_splits": 5.0,
    }

    (dataset_input,) = run.inputs.dataset_inputs
    sha256 = sha256_file(project.files["dataset"])
    assert dataset_input.dataset.name == "dataset"
    assert dataset_input.dataset.digest == sha256  # all 64 hex digits
    assert json.loads(dataset_input.dataset.source) == {"uri": "data/rows.csv"}
    assert {tag.key: tag.value for tag in dataset_input.tags} == {
        "mlflow.data.context": "training",
        "repro.sha256": sha256,
    }

    downloaded = Path(
        mlflow.MlflowClient(tracking_uri=uri).download_artifacts(run_id, "repro", str(tmp_path))
    )
    assert (downloaded / "lineage.json").read_bytes() == project.lineage_path.read_bytes()
    envelope = envelope_path(project.lineage_path)
    assert (downloaded / envelope.name).read_bytes() == envelope.read_bytes()

    # Nothing of MLflow's (its run id above all) is written into the project.
    assert _snapshot(project.root) == before


def test_two_exports_of_one_lineage_log_the_same_record(
    mlflow, project: FakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    uri = (tmp_path / "mlruns").as_uri()
    client = mlflow.MlflowClient(tracking_uri=uri)
    runs = []
    for _ in range(2):
        code, out, err = _export(capsys, uri)
        assert code == 0, err
        runs.append(client.get_run(out.split("MLflow run ")[1].split()[0]))
    assert runs[0].info.run_id != runs[1].info.run_id
    first, second = (
        (
            {
                k: v
                for k, v in run.data.tags.items()
                if not k.startswith("mlflow.") or k == "mlflow.source.git.commit"
            },
            run.data.params,
            run.data.metrics,
        )
        for run in runs
    )
    assert first == second


def test_a_lineage_that_does_not_verify_logs_no_run(
    mlflow, project: FakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    uri = (tmp_path / "mlruns").as_uri()
    project.files["model"].write_bytes(b"swapped model\n")
    code, _, err = _export(capsys, uri)
    assert code == 1
    assert err.count("\n") == 1 and "refusing to export" in err
    assert not (tmp_path / "mlruns").exists() or not mlflow.MlflowClient(tracking_uri=uri).search_runs(
        [e.experiment_id for e in mlflow.MlflowClient(tracking_uri=uri).search_experiments()]
    )


def test_a_wrong_public_key_logs_no_run(
    mlflow,
    project: FakeProject,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    assert keygen.main([str(tmp_path / "other.pem")]) == 0
    monkeypatch.setenv(PUBLIC_KEY_ENV, str(tmp_path / "other.pem.pub"))
    code, _, err = _export(capsys, (tmp_path / "mlruns").as_uri())
    assert code == 1 and "no signature verifies" in err
    assert not (tmp_path / "mlruns").exists()


def test_without_the_mlflow_extra_one_line_names_the_extra(project: FakeProject):
    code = "import sys; sys.modules['mlflow'] = None; from pytest_repro.cli.repro_export import main; raise SystemExit(main(['mlflow']))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project.root,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (
        2,
        "error: repro-export mlflow needs the optional package 'mlflow-skinny', which is not installed: "
        "pip install 'pytest-repro[mlflow]'\n",
    )


def test_a_sql_store_that_limits_digests_gets_32_hex_digits_and_the_full_hash_in_a_tag(
    mlflow, project: FakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    pytest.importorskip(
        "sqlalchemy", reason="a SQL tracking store needs sqlalchemy (the dev extra installs it)"
    )
    pytest.importorskip("alembic", reason="a SQL tracking store needs alembic (the dev extra installs it)")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, out, err = _export(capsys, uri)
    assert code == 0, err
    assert "the tracking store limits dataset digests" in err
    run = mlflow.MlflowClient(tracking_uri=uri).get_run(out.split("MLflow run ")[1].split()[0])
    (dataset_input,) = run.inputs.dataset_inputs
    sha256 = sha256_file(project.files["dataset"])
    assert dataset_input.dataset.digest == sha256[:32]
    assert {tag.key: tag.value for tag in dataset_input.tags}["repro.sha256"] == sha256


def test_a_tracking_server_that_does_not_answer_is_one_line_and_exit_2(
    project: FakeProject, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    pytest.importorskip(
        "mlflow", reason="the mlflow extra is not installed (pip install 'pytest-repro[mlflow]')"
    )
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with socket.socket() as probe:  # a port nothing listens on: bound, then closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = _snapshot(project.root)
    code, out, err = _export(capsys, f"http://127.0.0.1:{port}")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(
        "error: MLflow: cannot create a run in experiment 'repro-tests': "
    )
    assert _snapshot(project.root) == before
