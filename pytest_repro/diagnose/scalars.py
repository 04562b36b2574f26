"""What counts as a plain value in a diagnosis, and when two plain values are equal.

NaN equals NaN here: two runs that both produce NaN agree, which is what a
reproducibility check asks, although IEEE comparison says otherwise.  A bool is
never a number, so that ``True`` and ``1`` differ.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def is_simple(value: Any) -> bool:
    """Return whether `value` is compared as a whole (None, a bool, a number, text or bytes)."""
    return value is None or isinstance(value, (bool, int, float, complex, str, bytes))


def is_number(value: Any) -> bool:
    """Return whether `value` is a real number that is not a bool (NaN and inf included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_nan(value: Any) -> bool:
    """Return whether `value` is a float NaN."""
    return isinstance(value, float) and math.isnan(value)


def scalars_equal(a: Any, b: Any) -> bool:
    """Compare two plain values; numbers of any type by value, NaN equal to NaN, bools only to bools."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        if a == b:
            return True
        return _is_nan_like(a) and _is_nan_like(b)
    return type(a) is type(b) and a == b


def _is_nan_like(value: Any) -> bool:
    # Covers numpy and complex NaNs as well as float ones: only NaN is unequal to itself.
    try:
        return bool(value != value)
    except Exception:
        return False
