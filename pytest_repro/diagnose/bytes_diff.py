"""Compare two files as bytes: sizes, the first differing offset, and for small text the first line.

This is the diagnosis every other one starts from and falls back to: it works for
any file, streams in fixed-size chunks, and names both files with their sizes and
SHA-256 so that a reader can find them.
"""

from __future__ import annotations

import os
from pathlib import Path

from pytest_repro.diagnose.difference import Difference, differs_verb
from pytest_repro.diagnose.rendering import VALUE_LIMIT
from pytest_repro.lineage.hashing import sha256_file

# Streamed byte comparison reads this much of each file at a time.
CHUNK_SIZE = 1 << 16
# Files smaller than this are also compared line by line when both decode as UTF-8.
TEXT_LIMIT = 64 * 1024

PathLike = str | os.PathLike[str]


def diff_bytes(name: str, path_a: PathLike, path_b: PathLike) -> Difference | None:
    """Compare two files byte for byte; say where they first differ, with sizes and hashes."""
    found = bytes_difference(path_a, path_b)
    if found is None:
        return None
    what, details = found
    return Difference(name, f"{name} {differs_verb(name)}: {what}", tuple(details))


def files_to_open(
    path_a: PathLike, path_b: PathLike, subject: str
) -> tuple[str, list[str]] | Difference | None:
    """The bytes-first step of every format's comparison, said once.

    None when the two files hold the same bytes; a `Difference` when one of them is
    missing (nothing to open); otherwise the summary line (`model.pkl differs: ...`),
    what differs in the bytes and the byte-level details, for the format's own
    comparison to extend.
    """
    found = bytes_difference(path_a, path_b)
    if found is None:
        return None
    what, byte_details = found
    summary = f"{Path(path_a).name} differs: {what}"
    if not (Path(path_a).is_file() and Path(path_b).is_file()):
        return Difference(subject, summary, tuple(byte_details))
    return summary, what, byte_details


def same_bytes(path_a: PathLike, path_b: PathLike) -> bool:
    """Return whether both files exist and hold the same bytes."""
    path_a, path_b = Path(path_a), Path(path_b)
    if not (path_a.is_file() and path_b.is_file()):
        return False
    return path_a.stat().st_size == path_b.stat().st_size and first_differing_offset(path_a, path_b) is None


def bytes_difference(path_a: PathLike, path_b: PathLike) -> tuple[str, list[str]] | None:
    """Return (what differs, detail lines) for two files, or None when they are identical."""
    path_a, path_b = Path(path_a), Path(path_b)
    present_a, present_b = path_a.is_file(), path_b.is_file()
    if not (present_a and present_b):
        if not (present_a or present_b):
            raise FileNotFoundError(f"neither {path_a} nor {path_b} exists")
        missing, present = ("a", path_b) if present_b else ("b", path_a)
        return f"missing in run {missing}", [f"only present at {present}"]

    size_a, size_b = path_a.stat().st_size, path_b.stat().st_size
    offset = first_differing_offset(path_a, path_b)
    if offset is None:
        return None

    if offset == min(size_a, size_b):
        shorter, longer = ("a", "b") if size_a < size_b else ("b", "a")
        what = (
            f"run {shorter} ({min(size_a, size_b)} bytes) is a prefix of "
            f"run {longer} ({max(size_a, size_b)} bytes)"
        )
    elif size_a == size_b:
        what = f"first difference at byte {offset} (both {size_a} bytes)"
    else:
        what = f"first difference at byte {offset} (sizes {size_a} != {size_b} bytes)"

    details = []
    line = _first_differing_line(path_a, path_b, size_a, size_b)
    if line is not None:
        details.append(line)
    details.append(f"run a: {path_a} ({size_a} bytes, sha256 {sha256_file(path_a)})")
    details.append(f"run b: {path_b} ({size_b} bytes, sha256 {sha256_file(path_b)})")
    return what, details


def first_differing_offset(path_a: Path, path_b: Path) -> int | None:
    """Return the offset of the first byte that differs, or None; memory stays at two chunks."""
    buffer_a, buffer_b = bytearray(CHUNK_SIZE), bytearray(CHUNK_SIZE)
    view_a, view_b = memoryview(buffer_a), memoryview(buffer_b)
    position = 0
    with open(path_a, "rb") as handle_a, open(path_b, "rb") as handle_b:
        while True:
            # BufferedReader.readinto fills the whole buffer unless the file ends.
            count_a, count_b = handle_a.readinto(buffer_a), handle_b.readinto(buffer_b)
            chunk_a, chunk_b = view_a[:count_a], view_b[:count_b]
            if chunk_a != chunk_b:
                return position + common_prefix_length(chunk_a, chunk_b)
            if not count_a:
                return None
            position += count_a


def common_prefix_length(a: memoryview, b: memoryview) -> int:
    """Return how many leading bytes `a` and `b` share, by bisection on C-speed slice equality."""
    low, high = 0, min(len(a), len(b))
    # Invariant: a[:low] == b[:low], and the shared prefix is no longer than high.
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _first_differing_line(path_a: Path, path_b: Path, size_a: int, size_b: int) -> str | None:
    """For two small UTF-8 files, describe the first line that differs; otherwise None."""
    if size_a >= TEXT_LIMIT or size_b >= TEXT_LIMIT:
        return None
    try:
        text_a = path_a.read_bytes().decode("utf-8")
        text_b = path_b.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Keep line endings so that a missing final newline is visible as a difference.
    lines_a, lines_b = text_a.splitlines(keepends=True), text_b.splitlines(keepends=True)
    for number in range(max(len(lines_a), len(lines_b))):
        line_a = lines_a[number] if number < len(lines_a) else None
        line_b = lines_b[number] if number < len(lines_b) else None
        if line_a != line_b:
            column = common_prefix_length(
                memoryview((line_a or "").encode()), memoryview((line_b or "").encode())
            )
            column = len((line_a or "").encode()[:column].decode("utf-8", "ignore"))
            return (
                f"first differing line {number + 1}: {_excerpt(line_a, column)} != {_excerpt(line_b, column)}"
            )
    return None


def _excerpt(line: str | None, column: int) -> str:
    """Render a line for a message, centred on `column` when the line is long."""
    if line is None:
        return "<end of file>"
    if len(line) <= VALUE_LIMIT:
        return repr(line)
    start = max(0, column - VALUE_LIMIT // 3)
    text = repr(line[start : start + VALUE_LIMIT])
    return ("…" if start else "") + text + ("…" if start + VALUE_LIMIT < len(line) else "")
