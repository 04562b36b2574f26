"""Numbers in untrusted text: the one bound on an integer's length, for JSON and YAML alike.

Python refuses to convert a decimal integer of more than 4300 digits (a guard against
quadratic-time conversion) with a ValueError that names no file, so a crafted lineage,
envelope, journal, config or pin registry would crash its reader.  Every reader checks
the digits first and reports the number as a problem of its file instead.
"""

from __future__ import annotations

import json
from typing import Any

MAX_INT_DIGITS = 4300  # Python's default int_max_str_digits: the longest integer int() accepts


def int_digits_problem(text: str) -> str | None:
    """Return why the integer literal `text` is refused (too many digits), or None when it is fine."""
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_INT_DIGITS:
        return f"an integer of {digits} digits (at most {MAX_INT_DIGITS} are read)"
    return None


def loads_json(text: str) -> Any:
    """Parse JSON like json.loads, refusing over-long integers with a ValueError that says so."""
    return json.loads(text, parse_int=_bounded_int)


def _bounded_int(text: str) -> int:
    problem = int_digits_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return int(text)
