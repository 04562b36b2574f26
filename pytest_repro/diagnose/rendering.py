"""How values, differences and indices are written inside diagnostic messages.

Every diagnosis shows values the same way: a bounded ``repr`` without memory
addresses (they differ between processes and would hide the real difference),
three significant digits for a difference, and a relative error in scientific
notation.
"""

from __future__ import annotations

import re
from typing import Any

# Longest rendering of one value inside a message.
VALUE_LIMIT = 80

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def short(value: Any) -> str:
    """Return a bounded ``repr`` of `value`, without memory addresses; a broken repr is named."""
    try:
        text = repr(value)
    except Exception as error:  # a broken __repr__ must not break the diagnosis
        text = f"<{type_name(value)}: repr failed with {type(error).__name__}>"
    return shorten(strip_addresses(text))


def shorten(text: str) -> str:
    """Cut `text` to VALUE_LIMIT characters, marking the cut with an ellipsis."""
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def strip_addresses(text: str) -> str:
    """Remove ``at 0x…`` addresses, which differ between processes for equal objects."""
    return _ADDRESS.sub("", text)


def type_name(value: Any) -> str:
    """Return the qualified name of `value`'s type."""
    return type(value).__qualname__


def qualified_name(value: Any) -> str:
    """Return ``module.qualname`` of a class or function."""
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"


def key_text(key: Any) -> str:
    """Render a mapping key inside an attribute path, as plain Python would write it."""
    # numpy 2 renders np.str_ keys as "np.str_('x')"; paths should read like plain Python.
    if isinstance(key, str):
        return repr(str(key))
    return repr(key)


def index_text(index: tuple[int, ...]) -> str:
    """Render an array index as ``[i, j]``."""
    return "[" + ", ".join(str(i) for i in index) + "]"


def g(value: float) -> str:
    """Render a difference with three significant digits."""
    return f"{value:.3g}"


def delta_text(a: float, b: float) -> str:
    """Render the absolute and relative difference of two numbers."""
    return f"|Δ| {g(abs(a - b))}, {relative_text(a, b)}"


def relative_text(a: float, b: float) -> str:
    """Render |a - b| relative to the larger magnitude of the two."""
    scale = max(abs(a), abs(b))
    relative = abs(a - b) / scale if scale else 0.0
    return f"relative {relative:.1e}"


def capped(lines: list[str], limit: int, more: str = "more") -> list[str]:
    """Keep the first `limit` lines and say how many were left out."""
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"(+{len(lines) - limit} {more})"]
