"""repro-export dvc: a dvc.lock stage with DVC's MD5s, checked by the format and by the real `dvc status`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fake_project import FakeProject

from pytest_repro.cli.repro_export import main
from pytest_repro.lineage.hashing import file_digests
from pytest_repro.lineage.signing import KEY_ENV, REQUIRE_ENV

CONFIG = "seed: 11\nmodel:\n  kind: svm\n  C: 0.5\ndata:\n  test_size: 0.25\n"
FILES = {
    "dataset": "data/rows.csv",
    "config": "config.yaml",
    "model": "artifacts/model.pkl",
    "metrics": "artifacts/metrics.json",
}
CMD = "python train.py"
DVC = shutil.which("dvc")
needs_dvc = pytest.mark.skipif(
    DVC is None, reason="dvc is not installed (.ci/run installs it in a venv of its own: pip install dvc)"
)


@pytest.fixture(autouse=True)
def _no_signing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeProject:
    """A trained-looking project with a YAML config; the working directory."""
    fake = FakeProject(tmp_path / "project", FILES)
    fake.write_files(
        {name: CONFIG.encode() if name == "config" else f"{name} bytes\n".encode() * 3 for name in FILES}
    )
    fake.write_lineage(seed=11, code=None)
    monkeypatch.chdir(fake.root)
    return fake


def _export(*args: str) -> int:
    return main(["dvc", "--cmd", CMD, "--output", "dvc.lock", *args])


def test_the_stage_has_dvc_lock_fields_with_md5_and_size_of_every_file(project: FakeProject):
    assert _export() == 0
    lock = yaml.safe_load((project.root / "dvc.lock").read_text(encoding="utf-8"))
    assert lock["schema"] == "2.0"
    stage = lock["stages"]["train"]
    assert list(stage) == ["cmd", "deps", "params", "outs"]
    assert stage["cmd"] == CMD

    def record(name: str) -> dict:
        data = project.files[name].read_bytes()
        return {"path": FILES[name], "hash": "md5", "md5": hashlib.md5(data).hexdigest(), "size": len(data)}

    assert stage["deps"] == [record("config"), record("dataset")]  # sorted by path, as DVC writes them
    assert stage["outs"] == [record("metrics"), record("model")]
    assert stage["params"] == {
        "config.yaml": {"data": {"test_size": 0.25}, "model": {"kind": "svm", "C": 0.5}, "seed": 11}
    }
    assert list(stage["params"]["config.yaml"]) == ["data", "model", "seed"]  # top level sorted, like DVC


def test_the_export_is_the_same_bytes_every_time(project: FakeProject):
    assert _export() == 0
    first = (project.root / "dvc.lock").read_bytes()
    assert _export() == 0
    assert (project.root / "dvc.lock").read_bytes() == first
    assert b"'2.0'" in first  # a string, as DVC requires, not the float 2.0


def test_paths_are_relative_to_the_folder_written_to(project: FakeProject, tmp_path: Path):
    (project.root / "pipelines").mkdir()
    assert main(["dvc", "--cmd", CMD, "--output", "pipelines/dvc.lock"]) == 0
    lock = yaml.safe_load((project.root / "pipelines" / "dvc.lock").read_text(encoding="utf-8"))
    assert [dep["path"] for dep in lock["stages"]["train"]["deps"]] == ["../config.yaml", "../data/rows.csv"]


def test_a_file_that_no_longer_matches_its_lineage_writes_no_lock(
    project: FakeProject, capsys: pytest.CaptureFixture[str]
):
    project.files["dataset"].write_bytes(b"other rows\n")
    assert _export() == 1
    assert "refusing to export" in capsys.readouterr().err
    assert not (project.root / "dvc.lock").exists()


def test_the_command_is_required(project: FakeProject, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as raised:
        main(["dvc"])
    assert raised.value.code == 2
    assert "--cmd" in capsys.readouterr().err


def test_md5_and_sha256_come_from_one_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Count the bytes read from the file: one streamed pass serves both digests.
    import pytest_repro.lineage.hashing as hashing

    data = bytes(range(256)) * 9000  # several 1 MiB chunks
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    read = []
    real_open = hashing.open_regular

    class Counting:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def readinto(self, buffer):
            count = self.handle.readinto(buffer)
            read.append(count)
            return count

    monkeypatch.setattr(hashing, "open_regular", lambda *args, **kwargs: Counting(real_open(*args, **kwargs)))

    digests = file_digests(path, ("sha256", "md5"))

    assert digests.hexdigests == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }
    assert digests.size == len(data) == sum(read)


# --- the real dvc ---------------------------------------------------------------------------------


def _run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def _dvc_project(project: FakeProject, *, cache_outs: bool) -> None:
    """Make the project a git + DVC repository whose dvc.yaml declares the training as one stage."""
    assert _run(project.root, "git", "init", "-q").returncode == 0
    result = _run(project.root, DVC, "init", "-q")
    assert result.returncode == 0, result.stderr
    outs = [FILES["model"], FILES["metrics"]]
    stage = {
        "cmd": CMD,
        "deps": [FILES["dataset"], FILES["config"]],
        "params": [{FILES["config"]: None}],  # the whole file
        "outs": outs if cache_outs else [{path: {"cache": False}} for path in outs],
    }
    (project.root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"train": stage}}), encoding="utf-8")


def _status(project: FakeProject) -> dict:
    result = _run(project.root, DVC, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
@needs_dvc
def test_dvc_status_finds_the_exported_stage_up_to_date_and_sees_each_change(project: FakeProject):
    _dvc_project(project, cache_outs=False)
    assert _export() == 0
    assert _status(project) == {}
    assert "Data and pipelines are up to date." in _run(project.root, DVC, "status").stdout

    dataset = project.files["dataset"]
    original = dataset.read_bytes()
    dataset.write_bytes(original[:-1] + b"?")
    assert _status(project) == {"train": [{"changed deps": {FILES["dataset"]: "modified"}}]}
    dataset.write_bytes(original)

    config = project.files["config"]
    config.write_text(CONFIG.replace("C: 0.5", "C: 0.7"), encoding="utf-8")
    assert _status(project) == {"train": [{"changed deps": {FILES["config"]: {"model": "modified"}}}]}
    config.write_text(CONFIG, encoding="utf-8")

    project.files["model"].write_bytes(b"another model\n")
    assert _status(project) == {"train": [{"changed outs": {FILES["model"]: "modified"}}]}


@pytest.mark.slow
@needs_dvc
def test_dvc_commit_keeps_every_hash_of_the_exported_lock(project: FakeProject):
    # With cached outputs, `dvc commit` stores them and rewrites dvc.lock from its own hashing:
    # the content it writes equals ours, so DVC computed the same MD5s and sizes.
    _dvc_project(project, cache_outs=True)
    assert _export() == 0
    exported = yaml.safe_load((project.root / "dvc.lock").read_text(encoding="utf-8"))
    result = _run(project.root, DVC, "commit", "--force", "-q")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((project.root / "dvc.lock").read_text(encoding="utf-8")) == exported
    assert _status(project) == {}
