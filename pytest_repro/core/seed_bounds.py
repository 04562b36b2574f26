"""The seeds every library accepts: an int (not a bool) in [0, 2**32 - 1]."""

from __future__ import annotations

from typing import Any

SEED_MIN = 0
SEED_MAX = 2**32 - 1
SEED_RANGE_TEXT = "an integer in [0, 2**32 - 1]"


def is_seed(value: Any) -> bool:
    """Return whether `value` is a seed every library accepts: an int (not a bool) in [0, 2**32 - 1]."""
    return isinstance(value, int) and not isinstance(value, bool) and SEED_MIN <= value <= SEED_MAX
