"""Compare two texts that each hold one number: both values, their difference and relative error.

A training often writes a single number to a text file (a decision threshold, a
learning rate it chose, a score).  Its bytes say little ("first difference at byte
3"); the two values and Δ say what changed.
"""

from __future__ import annotations

import math
from pathlib import Path

from pytest_repro.diagnose.bytes_diff import PathLike, bytes_difference
from pytest_repro.diagnose.difference import Difference, differs_verb
from pytest_repro.diagnose.rendering import relative_text, short


def diff_number_files(name: str, path_a: PathLike, path_b: PathLike) -> Difference | None:
    """Compare two files holding one number each: the byte difference, led by the values."""
    found = bytes_difference(path_a, path_b)
    if found is None:
        return None
    what, byte_details = found
    summary = f"{name} {differs_verb(name)}: {what}"
    if not (Path(path_a).is_file() and Path(path_b).is_file()):
        return Difference(name, summary, tuple(byte_details))
    values = diff_number(
        name, Path(path_a).read_text(errors="replace"), Path(path_b).read_text(errors="replace")
    )
    details = (values.summary, *values.details) if values else ()
    return Difference(name, summary, (*details, *byte_details))


def diff_number(name: str, text_a: str | bytes, text_b: str | bytes) -> Difference | None:
    """Compare two texts holding one number each, numerically when both parse as floats."""
    if isinstance(text_a, bytes):
        text_a = text_a.decode("utf-8", "replace")
    if isinstance(text_b, bytes):
        text_b = text_b.decode("utf-8", "replace")
    stripped_a, stripped_b = text_a.strip(), text_b.strip()
    if stripped_a == stripped_b:
        return None
    value_a, value_b = parse_number(stripped_a), parse_number(stripped_b)
    runs = (f"run a: {stripped_a!r}", f"run b: {stripped_b!r}")
    verb = differs_verb(name)
    if value_a is None or value_b is None:
        unparsed = [run for run, value in (("a", value_a), ("b", value_b)) if value is None]
        return Difference(
            name,
            f"{name} {verb}: {short(stripped_a)} != {short(stripped_b)}",
            (*runs, f"not a number in run {' and '.join(unparsed)}"),
        )
    if value_a == value_b or (math.isnan(value_a) and math.isnan(value_b)):
        return Difference(
            name, f"{name} text differs but the value is equal: {stripped_a!r} vs {stripped_b!r}", runs
        )
    delta = value_b - value_a
    change = ""
    if math.isfinite(delta):
        change = f" (Δ {delta:+.3g}, {relative_text(value_a, value_b)})"
    return Difference(name, f"{name} {verb}: {value_a!r} != {value_b!r}{change}", runs)


def parse_number(text: str) -> float | None:
    """Return the number `text` spells (surrounding whitespace allowed), or None."""
    try:
        return float(text)
    except ValueError:
        return None
