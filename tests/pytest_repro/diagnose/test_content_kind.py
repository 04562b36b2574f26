"""What an artifact holds is read from its bytes, whatever its name."""

from __future__ import annotations

import json
import pickle

import pytest

from pytest_repro.diagnose.content_kind import ArtifactKind, artifact_kind, file_kind

joblib = pytest.importorskip("joblib", reason="joblib writes the compressed files checked here")


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)])
def test_joblib_files_are_models_whatever_their_name_and_compression(tmp_path, compress):
    path = tmp_path / "weights"
    joblib.dump({"coef": [1.0, 2.0]}, path, compress=compress)

    assert file_kind(path) is ArtifactKind.MODEL


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_plain_pickles_are_models_by_their_magic_bytes(tmp_path, protocol):
    path = tmp_path / "state.bin"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=protocol))

    assert file_kind(path) is ArtifactKind.MODEL


def test_a_model_suffix_marks_a_model_even_without_magic_bytes(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=0))

    assert file_kind(path) is ArtifactKind.MODEL


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("report", json.dumps({"auc": 0.9}), ArtifactKind.JSON),
        ("report.json", "0.5\n", ArtifactKind.JSON),
        ("cutoff", "0.4132\n", ArtifactKind.NUMBER),
        ("cutoff.txt", "  -1e-3 ", ArtifactKind.NUMBER),
        ("notes.txt", "trained on tuesday\n", ArtifactKind.BYTES),
        ("long.txt", "1" * 100, ArtifactKind.JSON),
        ("x.csv", "age,income\n1,2\n", ArtifactKind.BYTES),
        # "x" starts a zlib header only with a matching checksum byte; this is text.
        ("xs.txt", "xyz\n", ArtifactKind.BYTES),
    ],
)
def test_text_files_are_json_a_number_or_bytes_by_their_content(tmp_path, name, content, kind):
    path = tmp_path / name
    path.write_text(content)

    assert file_kind(path) is kind


def test_binary_files_are_bytes(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(bytes(range(256)))

    assert file_kind(path) is ArtifactKind.BYTES


def test_a_pair_takes_the_richer_kind_so_a_broken_run_is_still_explained(tmp_path):
    number, text, missing = tmp_path / "a", tmp_path / "b", tmp_path / "missing"
    number.write_text("0.5\n")
    text.write_text("high\n")

    assert artifact_kind(number, text) is ArtifactKind.NUMBER
    assert artifact_kind(missing, number) is ArtifactKind.NUMBER
    assert artifact_kind(text, missing) is ArtifactKind.BYTES
