"""Any two files as bytes: the first differing offset and line, sizes and hashes."""

from __future__ import annotations

import pytest

from pytest_repro.diagnose.bytes_diff import CHUNK_SIZE, diff_bytes, same_bytes
from pytest_repro.diagnose.difference import Difference
from pytest_repro.lineage.hashing import sha256_file


def test_identical_files_have_no_difference(tmp_path):
    (tmp_path / "a").write_bytes(b"same bytes")
    (tmp_path / "b").write_bytes(b"same bytes")

    assert diff_bytes("x", tmp_path / "a", tmp_path / "b") is None
    assert same_bytes(tmp_path / "a", tmp_path / "b")
    assert not same_bytes(tmp_path / "a", tmp_path / "missing")


def test_first_differing_offset_line_sizes_and_hashes_are_reported(tmp_path):
    path_a, path_b = tmp_path / "a.txt", tmp_path / "b.txt"
    path_a.write_text("alpha\nbeta\ngamma\n")
    path_b.write_text("alpha\nbetA\ngamma\n")

    difference = diff_bytes("threshold.txt", path_a, path_b)

    assert difference == Difference(
        "threshold.txt",
        "threshold.txt differs: first difference at byte 9 (both 17 bytes)",
        (
            "first differing line 2: 'beta\\n' != 'betA\\n'",
            f"run a: {path_a} (17 bytes, sha256 {sha256_file(path_a)})",
            f"run b: {path_b} (17 bytes, sha256 {sha256_file(path_b)})",
        ),
    )


def test_a_prefix_file_is_reported_as_a_prefix(tmp_path):
    path_a, path_b = tmp_path / "a.txt", tmp_path / "b.txt"
    path_a.write_text("alpha\n")
    path_b.write_text("alpha\nbeta\n")

    forward = diff_bytes("f", path_a, path_b)
    backward = diff_bytes("f", path_b, path_a)

    assert forward is not None and backward is not None
    assert forward.summary == "f differs: run a (6 bytes) is a prefix of run b (11 bytes)"
    assert forward.details[0] == "first differing line 2: <end of file> != 'beta\\n'"
    assert backward.summary == "f differs: run b (6 bytes) is a prefix of run a (11 bytes)"


@pytest.mark.parametrize("offset", [0, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 5, 3 * CHUNK_SIZE + 17])
def test_first_differing_offset_is_exact_across_chunk_boundaries(tmp_path, offset):
    content = bytes(range(256)) * (4 * CHUNK_SIZE // 256)
    changed = bytearray(content)
    changed[offset] ^= 0xFF
    (tmp_path / "a.bin").write_bytes(content)
    (tmp_path / "b.bin").write_bytes(bytes(changed))

    difference = diff_bytes("data.bin", tmp_path / "a.bin", tmp_path / "b.bin")

    assert difference is not None
    assert (
        difference.summary
        == f"data.bin differs: first difference at byte {offset} (both {len(content)} bytes)"
    )
    assert not any(line.startswith("first differing line") for line in difference.details)


def test_a_file_missing_in_one_run_is_named(tmp_path):
    (tmp_path / "a").write_bytes(b"x")

    difference = diff_bytes("x", tmp_path / "a", tmp_path / "missing")

    assert difference is not None
    assert difference.summary == "x differs: missing in run b"


def test_render_indents_details_under_the_summary():
    difference = Difference("threshold", "threshold differs", ["run a: '1'", "run b: '2'"])

    assert difference.details == ("run a: '1'", "run b: '2'")
    assert difference.render() == "threshold differs\n  run a: '1'\n  run b: '2'"
