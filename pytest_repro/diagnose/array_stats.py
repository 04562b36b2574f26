"""Describe how two arrays differ, the way pytest-regressions' ndarrays_regression does.

How many elements differ out of how many, the largest absolute and relative
difference, and the first differing item; NaN equals NaN.  numpy arrives as a
parameter, so that importing this module costs nothing.
"""

from __future__ import annotations

import math
from typing import Any

from pytest_repro.diagnose.rendering import g, index_text, short
from pytest_repro.diagnose.scalars import is_number, scalars_equal


def array_message(np: Any, a: Any, b: Any) -> str | None:
    """Describe how two non-object arrays differ; None when they are equal."""
    if a.shape != b.shape:
        return f"shape {a.shape} != {b.shape}"
    dtype_note = "" if a.dtype == b.dtype else f"dtype {a.dtype} != {b.dtype}; "
    equal = dtype_note + "values equal" if dtype_note else None
    if a.ndim == 0:
        item_a, item_b = a.item(), b.item()
        if scalars_equal(item_a, item_b):
            return equal
        return f"{dtype_note}{short(item_a)} != {short(item_b)}"
    differ = _differing_mask(np, a, b)
    if differ is None:
        # Structured or exotic dtypes that do not compare elementwise: fall back to raw bytes.
        return f"{dtype_note}raw bytes differ" if a.tobytes() != b.tobytes() else equal
    count = int(np.count_nonzero(differ))
    if count == 0:
        return equal
    stats = _numeric_stats(np, a, b, differ, count)
    flat = int(np.flatnonzero(differ)[0])
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    first = f"; first at {index_text(index)}: {short(a[index].item())} != {short(b[index].item())}"
    return f"{dtype_note}{count} of {a.size} elements differ{stats}{first}"


def _differing_mask(np: Any, a: Any, b: Any) -> Any:
    """Return the boolean mask of differing elements (NaN equal to NaN), or None if not comparable."""
    try:
        with np.errstate(all="ignore"):
            differ = np.asarray(a != b)
            if a.dtype.kind in "fc" and b.dtype.kind in "fc":
                differ &= ~(np.isnan(a) & np.isnan(b))
    except Exception:
        return None
    return differ if differ.shape == a.shape else None


def _numeric_stats(np: Any, a: Any, b: Any, differ: Any, count: int) -> str:
    """Render the largest |Δ| and relative difference of the differing elements of numeric arrays."""
    if not (a.dtype.kind in "iufc" and b.dtype.kind in "iufc"):
        return ""
    stats = ""
    kind = np.complex128 if "c" in (a.dtype.kind, b.dtype.kind) else np.float64
    with np.errstate(all="ignore"):
        x, y = a[differ].astype(kind), b[differ].astype(kind)
        delta = np.abs(x - y)
        finite = np.isfinite(delta)
        if finite.any():
            scale = np.maximum(np.abs(x), np.abs(y))[finite]
            relative = np.where(scale > 0, delta[finite] / np.where(scale > 0, scale, 1), 0)
            stats = f", max |Δ| {g(float(delta[finite].max()))} (max relative {float(relative.max()):.1e})"
    odd = count - int(np.count_nonzero(finite))
    if odd:
        stats += f", {odd} involve NaN or inf"
    return stats


def simple_sequence_message(a: list, b: list, shape: tuple[int, ...] | None = None) -> str | None:
    """Describe how two sequences of plain values differ (object arrays, lists)."""
    if len(a) != len(b):
        differing = sum(not scalars_equal(x, y) for x, y in zip(a, b, strict=False))
        return f"length {len(a)} != {len(b)} ({differing} of the first {min(len(a), len(b))} differ)"
    differing_at = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if not scalars_equal(x, y)]
    if not differing_at:
        return None
    deltas = [
        abs(a[i] - b[i])
        for i in differing_at
        if is_number(a[i]) and is_number(b[i]) and math.isfinite(abs(a[i] - b[i]))
    ]
    stats = f", max |Δ| {g(max(deltas))}" if deltas else ""
    first = differing_at[0]
    return (
        f"{len(differing_at)} of {len(a)} elements differ{stats}; "
        f"first at {index_text(_unravel(first, shape or (len(a),)))}: "
        f"{short(a[first])} != {short(b[first])}"
    )


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Turn a row-major flat position into an index tuple, like numpy.unravel_index."""
    index = []
    for size in reversed(shape):
        flat, position = divmod(flat, size)
        index.append(position)
    return tuple(reversed(index))
