"""Hashing and publishing: streamed SHA-256, canonical JSON, and writes that are all or nothing."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest
from checkout import ROOT as REPO

from pytest_repro.errors import ArtifactError
from pytest_repro.lineage.atomic import canonical_json, open_atomic, write_bytes_atomic
from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
from pytest_repro.lineage.publish import (
    JOURNAL_NAME,
    StagedCommit,
    output_lock,
    prepare_output_dir,
    recover_interrupted_commit,
)


class DiskFull(Exception):
    """The failure injected half-way through a write."""


def _failing_writer(handle: BinaryIO) -> None:
    handle.write(b"half of the new content")
    raise DiskFull("no space left")


def _writer(data: bytes):
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# ---------------------------------------------------------------- sha256_file


def test_sha256_file_matches_hashlib_on_a_known_file(tmp_path: Path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_file(path) == hashlib.sha256(b"abc").hexdigest() == sha256_bytes(b"abc")


def test_sha256_file_of_an_empty_file(tmp_path: Path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert sha256_file(path) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1000, 1 << 20])
def test_sha256_file_streams_a_file_larger_than_the_chunk(tmp_path: Path, chunk_size: int):
    data = bytes(range(256)) * 40 + b"tail"  # 10244 bytes: not a multiple of any chunk size above
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(path, chunk_size=chunk_size) == hashlib.sha256(data).hexdigest()


def test_sha256_file_accepts_a_string_path(tmp_path: Path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x00\x01")
    assert sha256_file(str(path)) == hashlib.sha256(b"\x00\x01").hexdigest()


# ---------------------------------------------------------------- canonical_json


def test_canonical_json_sorts_keys_at_every_level():
    text = canonical_json({"b": 1, "a": {"d": 2, "c": 3}}).decode()
    parsed = json.loads(text)
    assert list(parsed) == ["a", "b"]
    assert list(parsed["a"]) == ["c", "d"]


def test_canonical_json_is_stable_whatever_the_insertion_order():
    first = canonical_json({"x": [1, 2.5, "s"], "y": {"q": None, "p": True}})
    second = canonical_json({"y": {"p": True, "q": None}, "x": [1, 2.5, "s"]})
    assert first == second == canonical_json({"x": [1, 2.5, "s"], "y": {"q": None, "p": True}})
    assert first.endswith(b"\n")


def test_canonical_json_turns_nan_and_infinity_into_null():
    data = canonical_json({"nan": math.nan, "inf": [math.inf, -math.inf], "ok": 0.1})
    assert json.loads(data) == {"inf": [None, None], "nan": None, "ok": 0.1}
    assert b"NaN" not in data
    assert b"Infinity" not in data


def test_canonical_json_writes_numpy_scalars_as_plain_numbers():
    np = pytest.importorskip("numpy")
    data = canonical_json({"a": np.float64(0.25), "b": np.int64(3), "c": np.float64("nan")})
    assert json.loads(data) == {"a": 0.25, "b": 3, "c": None}


# ---------------------------------------------------------------- atomic writes


def test_write_bytes_atomic_replaces_the_file(tmp_path: Path):
    target = tmp_path / "threshold.txt"
    target.write_bytes(b"old")
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert _names(tmp_path) == ["threshold.txt"]


def test_failure_mid_write_via_open_atomic_keeps_the_previous_file(tmp_path: Path):
    target = tmp_path / "model.joblib"
    target.write_bytes(b"previous model")
    with pytest.raises(DiskFull), open_atomic(target) as handle:
        _failing_writer(handle)
    assert target.read_bytes() == b"previous model"
    assert _names(tmp_path) == ["model.joblib"]


def test_failure_mid_write_via_open_atomic_creates_nothing_new(tmp_path: Path):
    with pytest.raises(DiskFull), open_atomic(tmp_path / "new.json") as handle:
        _failing_writer(handle)
    assert _names(tmp_path) == []


def test_failure_mid_stage_keeps_every_previous_file(tmp_path: Path):
    (tmp_path / "model.joblib").write_bytes(b"old model")
    (tmp_path / "threshold.txt").write_bytes(b"old threshold")
    with pytest.raises(DiskFull), StagedCommit(tmp_path) as commit:
        commit.stage("threshold.txt", _writer(b"new threshold"))
        commit.stage("model.joblib", _failing_writer)
    assert (tmp_path / "model.joblib").read_bytes() == b"old model"
    assert (tmp_path / "threshold.txt").read_bytes() == b"old threshold"
    assert _names(tmp_path) == ["model.joblib", "threshold.txt"]


def test_failure_after_staging_publishes_nothing(tmp_path: Path):
    (tmp_path / "metrics.json").write_bytes(b"old")
    with pytest.raises(DiskFull), StagedCommit(tmp_path) as commit:
        commit.stage("metrics.json", _writer(b"new"))
        commit.stage("lineage.json", _writer(b"{}"))
        raise DiskFull("killed before the commit")
    assert (tmp_path / "metrics.json").read_bytes() == b"old"
    assert _names(tmp_path) == ["metrics.json"]


def test_staged_commit_publishes_all_files_together(tmp_path: Path):
    (tmp_path / "model.joblib").write_bytes(b"old model")
    with StagedCommit(tmp_path) as commit:
        staged = commit.stage("model.joblib", _writer(b"new model"))
        commit.stage("threshold.txt", _writer(b"0.5\n"))
        commit.stage("lineage.json", _writer(b"{}\n"))
        # Nothing is visible under its final name until the block completes.
        assert staged.read_bytes() == b"new model"
        assert (tmp_path / "model.joblib").read_bytes() == b"old model"
        assert not (tmp_path / "threshold.txt").exists()
        assert not (tmp_path / "lineage.json").exists()
    assert (tmp_path / "model.joblib").read_bytes() == b"new model"
    assert (tmp_path / "threshold.txt").read_bytes() == b"0.5\n"
    assert (tmp_path / "lineage.json").read_bytes() == b"{}\n"
    assert _names(tmp_path) == ["lineage.json", "model.joblib", "threshold.txt"]


def _interrupted_commit(folder: Path, files: dict[str, bytes]) -> list[list[str]]:
    """Stage files and write the journal, as StagedCommit.__exit__ does, but stop before renaming."""
    commit = StagedCommit(folder)
    renames = [[commit.stage(name, _writer(data)).name, name] for name, data in files.items()]
    write_bytes_atomic(folder / JOURNAL_NAME, json.dumps({"renames": renames}, sort_keys=True).encode())
    return renames


def test_journal_left_behind_is_rolled_forward(tmp_path: Path):
    (tmp_path / "model.joblib").write_bytes(b"old model")
    (tmp_path / "lineage.json").write_bytes(b"old lineage")
    _interrupted_commit(tmp_path, {"model.joblib": b"new model", "lineage.json": b"new lineage"})
    assert (tmp_path / "model.joblib").read_bytes() == b"old model"

    assert recover_interrupted_commit(tmp_path)

    assert (tmp_path / "model.joblib").read_bytes() == b"new model"
    assert (tmp_path / "lineage.json").read_bytes() == b"new lineage"
    assert _names(tmp_path) == ["lineage.json", "model.joblib"]
    assert recover_interrupted_commit(tmp_path) == ()


def test_journal_cut_short_half_way_is_finished(tmp_path: Path):
    renames = _interrupted_commit(tmp_path, {"model.joblib": b"new model", "lineage.json": b"new lineage"})
    first_tmp, first_final = renames[0]
    os.replace(tmp_path / first_tmp, tmp_path / first_final)  # the crash came after the first rename

    assert recover_interrupted_commit(tmp_path)

    assert (tmp_path / "model.joblib").read_bytes() == b"new model"
    assert (tmp_path / "lineage.json").read_bytes() == b"new lineage"
    assert _names(tmp_path) == ["lineage.json", "model.joblib"]


def test_no_journal_means_nothing_to_recover(tmp_path: Path):
    (tmp_path / "model.joblib").write_bytes(b"model")
    assert recover_interrupted_commit(tmp_path) == ()
    assert _names(tmp_path) == ["model.joblib"]


def test_unreadable_journal_is_an_artifact_error(tmp_path: Path):
    (tmp_path / JOURNAL_NAME).write_bytes(b"{not json")
    with pytest.raises(ArtifactError, match="unreadable commit journal"):
        recover_interrupted_commit(tmp_path)


# ---------------------------------------------------------------- the output folder and its lock

_TRY_LOCK = """
import sys
from pathlib import Path
from pytest_repro.lineage.publish import output_lock
from pytest_repro.errors import ArtifactError
try:
    with output_lock(Path(sys.argv[1])):
        pass
except ArtifactError as error:
    print(error, file=sys.stderr)
    sys.exit(3)
"""


def _try_lock_in_another_process(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _TRY_LOCK, str(folder)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_held_output_lock_stops_a_second_training(tmp_path: Path):
    with output_lock(tmp_path):
        result = _try_lock_in_another_process(tmp_path)
    assert result.returncode == 3, result.stderr
    assert "lock" in result.stderr
    assert "another training is writing to this folder" in result.stderr


def test_released_output_lock_can_be_taken_again(tmp_path: Path):
    with output_lock(tmp_path):
        pass
    result = _try_lock_in_another_process(tmp_path)
    assert result.returncode == 0, result.stderr


def test_prepare_output_dir_creates_nested_folders(tmp_path: Path):
    folder = tmp_path / "a" / "b" / "artifacts"
    assert prepare_output_dir(folder) == folder
    assert folder.is_dir()


def test_prepare_output_dir_on_a_file_raises_artifact_error(tmp_path: Path):
    path = tmp_path / "artifacts"
    path.write_text("not a folder")
    with pytest.raises(ArtifactError, match="is a file"):
        prepare_output_dir(path)


def test_prepare_output_dir_under_a_file_raises_artifact_error(tmp_path: Path):
    (tmp_path / "blocker").write_text("file")
    with pytest.raises(ArtifactError, match="parent of the output folder is a file"):
        prepare_output_dir(tmp_path / "blocker" / "artifacts")
