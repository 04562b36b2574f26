"""Walk two fitted models in parallel and record one line per attribute path that differs.

The walk follows what a fitted estimator is made of: its ``get_params`` first (a
changed hyperparameter usually explains everything fitted below it), then the named
children of a Pipeline, ColumnTransformer or FeatureUnion, then the fitted
attributes ending in ``_`` (an ensemble's ``estimators_``, a tree's node arrays).
Arrays are described by array_stats; other objects by their state, or as a last
resort by their pickled bytes.  numpy is passed in by the caller, which imports it
lazily.
"""

from __future__ import annotations

import pickle
import types
from collections.abc import Callable
from typing import Any

from pytest_repro.diagnose.array_stats import array_message, simple_sequence_message
from pytest_repro.diagnose.bytes_diff import common_prefix_length
from pytest_repro.diagnose.estimators import (
    TREE_ARRAYS,
    TREE_SCALARS,
    Structure,
    describe_node,
    fitted_attributes,
    is_estimator,
    is_tree,
    params_of,
    structure_of,
)
from pytest_repro.diagnose.rendering import (
    key_text,
    qualified_name,
    short,
    shorten,
    strip_addresses,
    type_name,
)
from pytest_repro.diagnose.scalars import is_simple, scalars_equal

# Deeper than this, nested objects are compared by their pickled bytes only.
MAX_DEPTH = 40


class Stop(Exception):
    """Raised inside a walk once enough differing paths have been found."""


def objects_differ(np: Any, a: Any, b: Any) -> bool:
    """Return whether `a` and `b` differ, stopping the walk at the first difference."""
    probe = Walker(np, 0)
    try:
        probe.compare("", a, b, 0)
    except Stop:
        return True
    return False


class Walker:
    """Compare two object trees in parallel, recording one line per differing path."""

    def __init__(self, np: Any, max_paths: int) -> None:
        self.np = np
        self.max_paths = max_paths
        self.lines: list[str] = []
        self.count = 0
        self.truncated = False
        self._seen: set[tuple[int, int]] = set()
        # Holding every compared pair keeps their ids from being reused by temporaries.
        self._alive: list[tuple[Any, Any]] = []

    def report(self, path: str, message: str) -> None:
        """Record one differing path; raise Stop once `max_paths` are recorded."""
        if self.count >= self.max_paths:
            self.truncated = True
            raise Stop
        self.count += 1
        self.lines.append(f"{path}: {message}")

    def compare(self, path: str, a: Any, b: Any, depth: int) -> None:
        """Compare `a` and `b` found at `path`, recording every difference below it."""
        np = self.np
        if a is b:
            return
        if isinstance(a, np.generic):
            a = a.item()
        if isinstance(b, np.generic):
            b = b.item()
        if is_simple(a) and is_simple(b):
            if not scalars_equal(a, b):
                self.report(path, f"{short(a)} != {short(b)}")
            return
        if type(a) is not type(b):
            self.report(path, f"type {type_name(a)} != {type_name(b)}")
            return
        if depth > MAX_DEPTH:
            self._compare_pickled(path, a, b, note=f" (nested deeper than {MAX_DEPTH} levels)")
            return
        plain_arrays = isinstance(a, np.ndarray) and a.dtype.kind != "O" and b.dtype.kind != "O"
        if not plain_arrays:
            # Containers and objects can be shared or cyclic; numeric arrays cannot.
            key = (id(a), id(b))
            if key in self._seen:
                return  # a cycle, or a pair already compared under another path
            self._seen.add(key)
            self._alive.append((a, b))
        try:
            self._dispatch(path, a, b, depth)
        except Stop:
            raise
        except Exception as error:
            # A diagnosis must never hide the failure it explains; name what could not be compared.
            self.report(path, f"could not compare {type_name(a)}: {type(error).__name__}: {error}")

    def _dispatch(self, path: str, a: Any, b: Any, depth: int) -> None:
        np = self.np
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "O" or b.dtype.kind == "O":
                self._compare_object_arrays(path, a, b, depth)
            else:
                message = array_message(np, a, b)
                if message:
                    self.report(path, message)
        elif is_tree(a):
            self._compare_trees(path, a, b)
        elif is_estimator(a):
            self._compare_estimators(path, a, b, depth)
        elif isinstance(a, dict):
            self._compare_mappings(path, a, b, depth, lambda k: f"{path}[{key_text(k)}]")
        elif isinstance(a, (list, tuple)):
            self._compare_sequences(path, a, b, depth)
        elif isinstance(a, (set, frozenset)):
            self._compare_sets(path, a, b)
        elif isinstance(a, np.random.RandomState):
            self._compare_derived(
                f"{path}.get_state()", a.get_state(legacy=False), b.get_state(legacy=False), depth
            )
        elif isinstance(a, np.random.Generator):
            self._compare_derived(
                f"{path}.bit_generator.state", a.bit_generator.state, b.bit_generator.state, depth
            )
        elif isinstance(a, (type, types.FunctionType, types.BuiltinFunctionType)):
            if _callable_identity(a) != _callable_identity(b):
                self.report(path, f"{qualified_name(a)} != {qualified_name(b)}")
        else:
            self._compare_opaque(path, a, b, depth)

    def _compare_derived(self, path: str, a: Any, b: Any, depth: int) -> None:
        """Compare two values computed from the objects being walked (a generator's state)."""
        self._alive.append((a, b))
        self.compare(path, a, b, depth + 1)

    # -- containers

    def _compare_mappings(self, path: str, a: dict, b: dict, depth: int, child: Callable[[Any], str]) -> None:
        only_a = [k for k in a if k not in b]
        only_b = [k for k in b if k not in a]
        for keys, run in ((only_a, "a"), (only_b, "b")):
            if keys:
                shown = ", ".join(key_text(k) for k in keys[:5]) + (", …" if len(keys) > 5 else "")
                self.report(path, f"{len(keys)} key(s) only in run {run}: {shown}")
        for k in a:
            if k in b:
                self.compare(child(k), a[k], b[k], depth + 1)

    def _compare_sequences(self, path: str, a: list | tuple, b: list | tuple, depth: int) -> None:
        if all(is_simple(x) for x in a) and all(is_simple(x) for x in b):
            message = simple_sequence_message(list(a), list(b))
            if message:
                self.report(path, message)
            return
        if len(a) != len(b):
            self.report(path, f"length {len(a)} != {len(b)}")
        pairs = [(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b, strict=False))]
        self._compare_items(path, pairs, depth)

    def _compare_object_arrays(self, path: str, a: Any, b: Any, depth: int) -> None:
        if a.shape != b.shape:
            self.report(path, f"shape {a.shape} != {b.shape}")
            return
        flat_a, flat_b = a.ravel().tolist(), b.ravel().tolist()
        if all(is_simple(x) for x in flat_a) and all(is_simple(x) for x in flat_b):
            message = simple_sequence_message(flat_a, flat_b, shape=a.shape)
            if message:
                self.report(path, message)
            return
        # Gradient boosting keeps its trees in an object array of shape (n_stages, K).
        pairs = [
            (f"{path}[{', '.join(str(int(i)) for i in index)}]", a[index], b[index])
            for index in self.np.ndindex(a.shape)
        ]
        self._compare_items(path, pairs, depth)

    def _compare_items(self, path: str, pairs: list[tuple[str, Any, Any]], depth: int) -> None:
        """Compare paired elements; for lists of estimators, also count how many differ."""
        estimators = len(pairs) > 1 and all(
            (is_estimator(x) or is_tree(x)) and (is_estimator(y) or is_tree(y)) for _, x, y in pairs
        )
        if not estimators:
            for item_path, x, y in pairs:
                self.compare(item_path, x, y, depth + 1)
            return

        slot = len(self.lines)
        differing = 0
        stopped: Stop | None = None
        for item_path, x, y in pairs:
            if stopped is not None:
                # The report is full; only count, stopping each probe at its first difference.
                differing += objects_differ(self.np, x, y)
                continue
            before = self.count
            try:
                self.compare(item_path, x, y, depth + 1)
            except Stop as stop:
                stopped = stop
                differing += 1
                continue
            differing += self.count > before
        if differing:
            self.lines.insert(slot, f"{path}: {differing} of {len(pairs)} estimators differ")
        if stopped is not None:
            raise stopped

    def _compare_sets(self, path: str, a: set | frozenset, b: set | frozenset) -> None:
        if a == b:
            return
        only_a = sorted(repr(x) for x in a - b)
        only_b = sorted(repr(x) for x in b - a)
        self.report(
            path,
            f"{len(only_a)} element(s) only in run a ({shorten(', '.join(only_a[:5]))}), "
            f"{len(only_b)} only in run b ({shorten(', '.join(only_b[:5]))})",
        )

    # -- scikit-learn

    def _compare_estimators(self, path: str, a: Any, b: Any, depth: int) -> None:
        # Parameters first: a changed hyperparameter usually explains everything fitted below it.
        params_a, params_b = params_of(a), params_of(b)
        structure = structure_of(a)
        if params_a is None or params_b is None:
            public_a = {k: v for k, v in getattr(a, "__dict__", {}).items() if k[:1] != "_"}
            public_b = {k: v for k, v in getattr(b, "__dict__", {}).items() if k[:1] != "_"}
            self._compare_mappings(path, public_a, public_b, depth, lambda k: f"{path}.{k}")
            return
        skip = structure.params if structure else frozenset()
        params_a = {k: v for k, v in params_a.items() if k not in skip}
        params_b = {k: v for k, v in params_b.items() if k not in skip}
        self._alive.append((params_a, params_b))
        self._compare_mappings(
            f"{path}.get_params()",
            params_a,
            params_b,
            depth,
            lambda k: f"{path}.get_params()[{key_text(k)}]",
        )

        skip = frozenset()
        if structure is not None:
            skip = structure.attributes
            self._compare_named_children(path, a, b, structure, depth)

        fitted_a, fitted_b = fitted_attributes(a, skip), fitted_attributes(b, skip)
        self._compare_mappings(path, fitted_a, fitted_b, depth, lambda k: f"{path}.{k}")

    def _compare_named_children(self, path: str, a: Any, b: Any, structure: Structure, depth: int) -> None:
        items_a = getattr(a, structure.source, None)
        items_b = getattr(b, structure.source, None)
        if not isinstance(items_a, list) or not isinstance(items_b, list):
            self.compare(f"{path}.{structure.source}", items_a, items_b, depth + 1)
            return
        names_a = [item[0] for item in items_a]
        names_b = [item[0] for item in items_b]
        if names_a != names_b:
            self.report(f"{path}.{structure.source}", f"names {names_a} != {names_b}")
        for index, (item_a, item_b) in enumerate(zip(items_a, items_b, strict=False)):
            name = item_a[0]
            self.compare(f"{path}.{structure.accessor}[{key_text(name)}]", item_a[1], item_b[1], depth + 1)
            # ColumnTransformer items carry the columns each transformer was given.
            for position in range(2, min(len(item_a), len(item_b))):
                self.compare(
                    f"{path}.{structure.source}[{index}][{position}]",
                    item_a[position],
                    item_b[position],
                    depth + 1,
                )

    def _compare_trees(self, path: str, a: Any, b: Any) -> None:
        np = self.np
        for name in TREE_SCALARS:
            value_a, value_b = getattr(a, name, None), getattr(b, name, None)
            if value_a != value_b:
                self.report(f"{path}.{name}", f"{value_a!r} != {value_b!r}")
        if a.node_count != b.node_count:
            self.report(path, _node_count_message(np, a, b))
            return
        for name in TREE_ARRAYS:
            if not (hasattr(a, name) and hasattr(b, name)):
                continue
            message = array_message(np, np.asarray(getattr(a, name)), np.asarray(getattr(b, name)))
            if message:
                self.report(f"{path}.{name}", message)

    # -- anything else

    def _compare_opaque(self, path: str, a: Any, b: Any, depth: int) -> None:
        if type(a).__eq__ is not object.__eq__:
            try:
                equal = a == b
            except Exception:
                equal = None
            if isinstance(equal, (bool, self.np.bool_)):
                if not equal:
                    self.report(path, f"{short(a)} != {short(b)}")
                return
        state_a, state_b = _object_state(a), _object_state(b)
        if state_a or state_b:
            self._alive.append((state_a, state_b))
            self._compare_mappings(path, state_a, state_b, depth, lambda k: f"{path}.{k}")
            return
        self._compare_pickled(path, a, b, note="")

    def _compare_pickled(self, path: str, a: Any, b: Any, *, note: str) -> None:
        try:
            pickled_a, pickled_b = pickle.dumps(a, protocol=5), pickle.dumps(b, protocol=5)
        except Exception:
            repr_a, repr_b = strip_addresses(repr(a)), strip_addresses(repr(b))
            if repr_a != repr_b:
                self.report(path, f"{shorten(repr_a)} != {shorten(repr_b)}{note}")
            return
        if pickled_a != pickled_b:
            offset = common_prefix_length(memoryview(pickled_a), memoryview(pickled_b))
            self.report(
                path,
                f"{type_name(a)} pickles differently (first difference at byte {offset} "
                f"of {len(pickled_a)} and {len(pickled_b)}){note}",
            )


def _node_count_message(np: Any, a: Any, b: Any) -> str:
    """Describe two trees of different sizes and where their depth-first node order first diverges."""
    # Node arrays no longer line up element by element, so describe the shape of the trees.
    message = (
        f"{a.node_count} nodes != {b.node_count} nodes (max_depth {a.max_depth} != {b.max_depth})"
        if a.max_depth != b.max_depth
        else f"{a.node_count} nodes != {b.node_count} nodes"
    )
    common = min(a.node_count, b.node_count)
    mismatch = (
        (a.children_left[:common] != b.children_left[:common])
        | (a.feature[:common] != b.feature[:common])
        | (a.threshold[:common] != b.threshold[:common])
    )
    if mismatch.any():
        node = int(np.flatnonzero(mismatch)[0])
        message += f"; first differing node {node}: {describe_node(a, node)} != {describe_node(b, node)}"
    return message


def _object_state(value: Any) -> dict[str, Any]:
    """Return an object's attributes, from its ``__dict__`` and from every ``__slots__`` in its MRO."""
    state = dict(getattr(value, "__dict__", None) or {})
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(value, name):
                state.setdefault(name, getattr(value, name))
    return state


def _callable_identity(value: Any) -> tuple[Any, ...]:
    """Identify a class or function by its name and, for Python functions, by its code."""
    code = getattr(value, "__code__", None)
    if code is None:
        return (qualified_name(value),)
    return (qualified_name(value), code.co_code, repr(code.co_consts))
