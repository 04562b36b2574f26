"""What an object holds, as the model walk sees it: its attributes, or the state it serializes itself as."""

from __future__ import annotations

from typing import Any

from pytest_repro.diagnose.rendering import qualified_name


def serialized_state(value: Any) -> dict[str, Any] | None:
    """The state an object serializes itself as (its own ``__getstate__``), when that is a mapping; else None.

    An object that writes its own state may keep what matters outside ``__dict__`` (a
    handle to C++ memory), so its own serialization is what two runs are compared by.
    """
    own = getattr(type(value), "__getstate__", None)
    if own is None or own is getattr(object, "__getstate__", None):
        return None
    try:
        state = value.__getstate__()
    except Exception:
        return None
    return dict(state) if isinstance(state, dict) else None


def object_state(value: Any) -> dict[str, Any]:
    """Return an object's attributes, from its ``__dict__`` and from every ``__slots__`` in its MRO."""
    state = dict(getattr(value, "__dict__", None) or {})
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(value, name):
                state.setdefault(name, getattr(value, name))
    return state


def callable_identity(value: Any) -> tuple[Any, ...]:
    """Identify a class or function by its name and, for Python functions, by its code."""
    code = getattr(value, "__code__", None)
    if code is None:
        return (qualified_name(value),)
    return (qualified_name(value), code.co_code, repr(code.co_consts))
