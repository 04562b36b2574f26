"""Compare JSON values leaf by leaf, naming each differing leaf by its JSON pointer.

Used for the metrics a run returns and for artifacts that hold JSON.  Numbers are
compared with an optional absolute tolerance (a value the `repro_tolerance` setting's
parser accepted, `options.parse_tolerance`: finite and ≥ 0) and reported with |Δ| and the
relative error; structural differences (a key in one run only, a changed type)
rank above every numeric one, then numbers largest difference first.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pytest_repro.diagnose.bytes_diff import PathLike, bytes_difference
from pytest_repro.diagnose.difference import Difference, differs_verb
from pytest_repro.diagnose.digests import escape_pointer
from pytest_repro.diagnose.rendering import capped, delta_text, g, short
from pytest_repro.diagnose.scalars import is_nan, is_number

# diff_metrics shows at most this many differing leaves, then "(+N more)".
MAX_METRIC_LINES = 10
# Deeper than this, JSON values are compared with == only (a guard against the recursion limit).
MAX_JSON_DEPTH = 40

# One differing leaf: (|Δ|, or inf for a structural difference; its pointer; the message).
_Found = list[tuple[float, str, str]]


def diff_metrics(a: Any, b: Any, *, tolerance: float = 0.0) -> Difference | None:
    """Compare two JSON-like trees leaf by leaf; numbers within `tolerance` count as equal."""
    return diff_json_values("metrics", a, b, tolerance)


def diff_json_files(
    name: str, path_a: PathLike, path_b: PathLike, tolerance: float = 0.0
) -> Difference | None:
    """Compare two JSON files: bytes first, then, when both parse, value by value."""
    found = bytes_difference(path_a, path_b)
    if found is None:
        return None
    what, byte_details = found
    bytes_line = f"bytes: {what}"
    byte_summary = f"{name} {differs_verb(name)}: {what}"
    if not (Path(path_a).is_file() and Path(path_b).is_file()):
        return Difference(name, byte_summary, tuple(byte_details))

    parsed = []
    for run, path in (("a", path_a), ("b", path_b)):
        try:
            parsed.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as error:
            return Difference(name, byte_summary, (f"not valid JSON in run {run}: {error}", *byte_details))
    values = diff_json_values(name, parsed[0], parsed[1], tolerance)
    if values is not None:
        return Difference(name, values.summary, (*values.details, bytes_line, *byte_details))
    if diff_json_values(name, parsed[0], parsed[1], 0.0) is not None:
        return None  # every difference is within the tolerance the caller allowed
    return Difference(
        name,
        f"{name} {differs_verb(name)}: the JSON values are equal; only formatting or key order differs",
        (bytes_line, *byte_details),
    )


def diff_json_values(subject: str, a: Any, b: Any, tolerance: float) -> Difference | None:
    """Compare two parsed JSON values; None when they are equal within `tolerance`."""
    found: _Found = []
    within = _walk_json("", a, b, tolerance, found, 0)
    if not found:
        return None

    # Structural differences (missing keys, changed types) rank above every number.
    found.sort(key=lambda item: -item[0])
    lines = [f"{pointer or '(root)'}: {message}" for _, pointer, message in found]
    details = capped(lines, MAX_METRIC_LINES)
    if within:
        details.append(f"({within} numeric differences within tolerance {tolerance:g} ignored)")
    numeric = [item for item in found if math.isfinite(item[0])]
    largest = ""
    if numeric:
        delta, pointer, _ = max(numeric, key=lambda item: item[0])
        largest = f", largest |Δ| {g(delta)} at {pointer or '(root)'}"
    leaves = _count_json_union(a, b)
    summary = f"{subject} {differs_verb(subject)}: {len(found)} of {leaves} values differ{largest}"
    return Difference(subject, summary, tuple(details))


def _walk_json(pointer: str, a: Any, b: Any, tolerance: float, found: _Found, depth: int) -> int:
    """Append (rank, pointer, message) for each differing leaf; return how many were tolerated."""
    if depth > MAX_JSON_DEPTH:
        if a != b:
            found.append((math.inf, pointer, f"{short(a)} != {short(b)}"))
        return 0
    if isinstance(a, dict) and isinstance(b, dict):
        pairs = [
            (f"{pointer}/{escape_pointer(str(key))}", key) for key in [*a, *(k for k in b if k not in a)]
        ]
        return _walk_children(pairs, a, b, tolerance, found, depth)
    if isinstance(a, list) and isinstance(b, list):
        pairs = [(f"{pointer}/{index}", index) for index in range(max(len(a), len(b)))]
        return _walk_children(pairs, a, b, tolerance, found, depth)
    if is_number(a) and is_number(b):
        return _compare_numbers(pointer, a, b, tolerance, found)
    if type(a) is not type(b) or a != b:
        found.append((math.inf, pointer, f"{short(a)} != {short(b)}"))
    return 0


def _walk_children(
    pairs: list[tuple[str, Any]], a: Any, b: Any, tolerance: float, found: _Found, depth: int
) -> int:
    """Walk the children of two dicts or two lists, `pairs` naming each child's pointer and key."""
    within = 0
    for child, key in pairs:
        in_a = key in a if isinstance(a, dict) else key < len(a)
        in_b = key in b if isinstance(b, dict) else key < len(b)
        if not in_b:
            found.append((math.inf, child, f"only in run a ({short(a[key])})"))
        elif not in_a:
            found.append((math.inf, child, f"only in run b ({short(b[key])})"))
        else:
            within += _walk_json(child, a[key], b[key], tolerance, found, depth + 1)
    return within


def _compare_numbers(pointer: str, a: float, b: float, tolerance: float, found: _Found) -> int:
    """Record two numbers that differ by more than `tolerance`; return 1 when they are tolerated."""
    if a == b or (is_nan(a) and is_nan(b)):
        return 0
    delta = abs(a - b)
    if not math.isfinite(delta):
        found.append((math.inf, pointer, f"{a!r} != {b!r}"))
        return 0
    if delta <= tolerance:
        return 1
    found.append((float(delta), pointer, f"{a!r} != {b!r} ({delta_text(a, b)})"))
    return 0


def _count_json_union(a: Any, b: Any) -> int:
    """Count the leaves of the union of two JSON trees."""
    if isinstance(a, dict) and isinstance(b, dict):
        return sum(
            _count_json_union(a[k], b[k]) if k in a and k in b else _count_json(a.get(k, b.get(k)))
            for k in a.keys() | b.keys()
        )
    if isinstance(a, list) and isinstance(b, list):
        shared = sum(_count_json_union(x, y) for x, y in zip(a, b, strict=False))
        longer = a if len(a) > len(b) else b
        return shared + sum(_count_json(x) for x in longer[min(len(a), len(b)) :])
    return 1


def _count_json(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_count_json(v) for v in value.values()) or 1
    if isinstance(value, list):
        return sum(_count_json(v) for v in value) or 1
    return 1
