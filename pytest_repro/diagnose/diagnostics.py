"""Explain how two training runs differ: bytes, fitted models, folds, metrics and thresholds.

Pure comparison logic, no pytest hooks. Every function returns ``None`` (or an empty
list) when its two inputs are equal, and otherwise says *what* differs with statistics
of the difference (how many elements, largest absolute and relative difference), the
way pytest-regressions does.

numpy and joblib are imported inside the functions that need them: the plugin imports
this module, and a plain ``pytest`` run must not pay for them. scikit-learn is never
imported here; estimators are recognised by their ``get_params`` method.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.lineage.hashing import sha256_file

# Streamed byte comparison reads this much of each file at a time.
CHUNK_SIZE = 1 << 16
# Files smaller than this are also compared line by line when both decode as UTF-8.
TEXT_LIMIT = 64 * 1024
# Deeper than this, nested objects are compared by their pickled bytes only.
MAX_DEPTH = 40
# diff_metrics shows at most this many differing leaves, then "(+N more)".
MAX_METRIC_LINES = 10
# diff_folds shows at most this many differing folds, then "(+N more)".
MAX_FOLD_LINES = 10
# Longest rendering of one value inside a message.
VALUE_LIMIT = 80

# Node arrays of a fitted sklearn Tree, in the order they are reported.
TREE_ARRAYS = (
    "children_left",
    "children_right",
    "feature",
    "threshold",
    "value",
    "impurity",
    "n_node_samples",
    "weighted_n_node_samples",
    "missing_go_to_left",
)
TREE_SCALARS = ("n_features", "n_outputs", "max_n_classes")

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_PICKLE_CAUSE = "e.g. a set or dict ordering or a RandomState object"


@dataclass(frozen=True)
class Difference:
    """One artifact or value that differs between two runs, explained."""

    subject: str
    summary: str
    details: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers naturally build details as lists; keep the record hashable and immutable.
        object.__setattr__(self, "details", tuple(self.details))

    def render(self) -> str:
        """Return the summary followed by the details, one per indented line."""
        return "\n".join([self.summary, *(f"  {line}" for line in self.details)])


# --------------------------------------------------------------------------- bytes


def diff_bytes(
    name: str, path_a: str | os.PathLike[str], path_b: str | os.PathLike[str]
) -> Difference | None:
    """Compare two files byte for byte; say where they first differ, with sizes and hashes."""
    found = _bytes_difference(path_a, path_b)
    if found is None:
        return None
    what, details = found
    return Difference(name, f"{name} {_differs(name)}: {what}", tuple(details))


def _bytes_difference(
    path_a: str | os.PathLike[str], path_b: str | os.PathLike[str]
) -> tuple[str, list[str]] | None:
    """Return (what differs, detail lines) for two files, or None when they are identical."""
    path_a, path_b = Path(path_a), Path(path_b)
    present_a, present_b = path_a.is_file(), path_b.is_file()
    if not (present_a and present_b):
        if not (present_a or present_b):
            raise FileNotFoundError(f"neither {path_a} nor {path_b} exists")
        missing, present = ("a", path_b) if present_b else ("b", path_a)
        return f"missing in run {missing}", [f"only present at {present}"]

    size_a, size_b = path_a.stat().st_size, path_b.stat().st_size
    offset = _first_differing_offset(path_a, path_b)
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


def _first_differing_offset(path_a: Path, path_b: Path) -> int | None:
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
                return position + _common_prefix_length(chunk_a, chunk_b)
            if not count_a:
                return None
            position += count_a


def _common_prefix_length(a: memoryview, b: memoryview) -> int:
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
            column = _common_prefix_length(
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


# --------------------------------------------------------------------------- models


def diff_models(model_a: Any, model_b: Any, *, max_paths: int = 8) -> list[str]:
    """Walk two fitted estimators in parallel and describe the attribute paths that differ.

    Returns an empty list when the objects are structurally equal. Otherwise the lines
    start with every estimator whose ``random_state`` is None (the usual cause), followed
    by the first `max_paths` differing paths, e.g.
    ``model.estimators_[3].tree_.threshold: 17 of 255 elements differ, max |Δ| 0.42 ...``.
    """
    report = _compare_models(model_a, model_b, max_paths=max_paths)
    return report.lines()


@dataclass(frozen=True)
class _ModelReport:
    unseeded: tuple[str, ...]
    paths: tuple[str, ...]
    count: int
    truncated: bool

    def lines(self) -> list[str]:
        if not self.count:
            return []
        note = (f"(stopped after {self.count} differing paths; more differ)",)
        return [*self.unseeded, *self.paths, *(note if self.truncated else ())]


def _compare_models(model_a: Any, model_b: Any, *, max_paths: int) -> _ModelReport:
    if max_paths < 1:
        raise ValueError(f"max_paths must be a positive integer, got {max_paths!r}")
    import numpy

    walker = _Walker(numpy, max_paths)
    with contextlib.suppress(_Stop):  # the walker already recorded that more paths differ
        walker.compare("model", model_a, model_b, 0)
    if not walker.count:
        return _ModelReport((), (), 0, False)
    try:
        unseeded = _unseeded_lines(numpy, model_a, model_b, limit=max_paths)
    except Exception:  # naming the usual cause is a bonus; never let it break the report
        unseeded = []
    return _ModelReport(tuple(unseeded), tuple(walker.lines), walker.count, walker.truncated)


class _Stop(Exception):
    """Raised inside a walk once enough differing paths have been found."""


class _Walker:
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
        if self.count >= self.max_paths:
            self.truncated = True
            raise _Stop
        self.count += 1
        self.lines.append(f"{path}: {message}")

    def differs(self, a: Any, b: Any) -> bool:
        """Return whether `a` and `b` differ, stopping at the first difference."""
        probe = _Walker(self.np, 0)
        try:
            probe.compare("", a, b, 0)
        except _Stop:
            return True
        return False

    def compare(self, path: str, a: Any, b: Any, depth: int) -> None:
        np = self.np
        if a is b:
            return
        if isinstance(a, np.generic):
            a = a.item()
        if isinstance(b, np.generic):
            b = b.item()
        if _is_simple(a) and _is_simple(b):
            if not _scalars_equal(a, b):
                self.report(path, f"{_short(a)} != {_short(b)}")
            return
        if type(a) is not type(b):
            self.report(path, f"type {_type_name(a)} != {_type_name(b)}")
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
        except _Stop:
            raise
        except Exception as error:
            # A diagnosis must never hide the failure it explains; name what could not be compared.
            self.report(path, f"could not compare {_type_name(a)}: {type(error).__name__}: {error}")

    def _dispatch(self, path: str, a: Any, b: Any, depth: int) -> None:
        np = self.np
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "O" or b.dtype.kind == "O":
                self._compare_object_arrays(path, a, b, depth)
            else:
                message = _array_message(np, a, b)
                if message:
                    self.report(path, message)
        elif _is_tree(a):
            self._compare_trees(path, a, b)
        elif _is_estimator(a):
            self._compare_estimators(path, a, b, depth)
        elif isinstance(a, dict):
            self._compare_mappings(path, a, b, depth, lambda k: f"{path}[{_key(k)}]")
        elif isinstance(a, (list, tuple)):
            self._compare_sequences(path, a, b, depth)
        elif isinstance(a, (set, frozenset)):
            self._compare_sets(path, a, b)
        elif isinstance(a, np.random.RandomState):
            state_a, state_b = a.get_state(legacy=False), b.get_state(legacy=False)
            self._alive.append((state_a, state_b))
            self.compare(f"{path}.get_state()", state_a, state_b, depth + 1)
        elif isinstance(a, np.random.Generator):
            state_a, state_b = a.bit_generator.state, b.bit_generator.state
            self._alive.append((state_a, state_b))
            self.compare(f"{path}.bit_generator.state", state_a, state_b, depth + 1)
        elif isinstance(a, (type, types.FunctionType, types.BuiltinFunctionType)):
            if _callable_identity(a) != _callable_identity(b):
                self.report(path, f"{_qualified_name(a)} != {_qualified_name(b)}")
        else:
            self._compare_opaque(path, a, b, depth)

    # -- containers

    def _compare_mappings(self, path: str, a: dict, b: dict, depth: int, child: Callable[[Any], str]) -> None:
        only_a = [k for k in a if k not in b]
        only_b = [k for k in b if k not in a]
        for keys, run in ((only_a, "a"), (only_b, "b")):
            if keys:
                shown = ", ".join(_key(k) for k in keys[:5]) + (", …" if len(keys) > 5 else "")
                self.report(path, f"{len(keys)} key(s) only in run {run}: {shown}")
        for k in a:
            if k in b:
                self.compare(child(k), a[k], b[k], depth + 1)

    def _compare_sequences(self, path: str, a: list | tuple, b: list | tuple, depth: int) -> None:
        if all(_is_simple(x) for x in a) and all(_is_simple(x) for x in b):
            message = _simple_sequence_message(list(a), list(b))
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
        if all(_is_simple(x) for x in flat_a) and all(_is_simple(x) for x in flat_b):
            message = _simple_sequence_message(flat_a, flat_b, shape=a.shape)
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
            (_is_estimator(x) or _is_tree(x)) and (_is_estimator(y) or _is_tree(y)) for _, x, y in pairs
        )
        if not estimators:
            for item_path, x, y in pairs:
                self.compare(item_path, x, y, depth + 1)
            return

        slot = len(self.lines)
        differing = 0
        stopped: _Stop | None = None
        for item_path, x, y in pairs:
            if stopped is not None:
                # The report is full; only count, stopping each probe at its first difference.
                differing += self.differs(x, y)
                continue
            before = self.count
            try:
                self.compare(item_path, x, y, depth + 1)
            except _Stop as stop:
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
            f"{len(only_a)} element(s) only in run a ({_shorten(', '.join(only_a[:5]))}), "
            f"{len(only_b)} only in run b ({_shorten(', '.join(only_b[:5]))})",
        )

    # -- scikit-learn

    def _compare_estimators(self, path: str, a: Any, b: Any, depth: int) -> None:
        # Parameters first: a changed hyperparameter usually explains everything fitted below it.
        params_a, params_b = _params(a), _params(b)
        structure = _structure(a)
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
            lambda k: f"{path}.get_params()[{_key(k)}]",
        )

        skip = frozenset()
        if structure is not None:
            skip = structure.attributes
            self._compare_named_children(path, a, b, structure, depth)

        fitted_a, fitted_b = _fitted_attributes(a, skip), _fitted_attributes(b, skip)
        self._compare_mappings(path, fitted_a, fitted_b, depth, lambda k: f"{path}.{k}")

    def _compare_named_children(self, path: str, a: Any, b: Any, structure: _Structure, depth: int) -> None:
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
            self.compare(f"{path}.{structure.accessor}[{_key(name)}]", item_a[1], item_b[1], depth + 1)
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
            # Node arrays no longer line up element by element, so describe the shape of
            # the trees and where their depth-first node order first diverges.
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
                message += (
                    f"; first differing node {node}: {_describe_node(a, node)} != {_describe_node(b, node)}"
                )
            self.report(f"{path}", message)
            return
        for name in TREE_ARRAYS:
            if not (hasattr(a, name) and hasattr(b, name)):
                continue
            message = _array_message(np, np.asarray(getattr(a, name)), np.asarray(getattr(b, name)))
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
                    self.report(path, f"{_short(a)} != {_short(b)}")
                return
        state_a, state_b = _object_state(a), _object_state(b)
        if state_a or state_b:
            self._alive.append((state_a, state_b))
            self._compare_mappings(path, state_a, state_b, depth, lambda k: f"{path}.{k}")
            return
        self._compare_pickled(path, a, b, note="")

    def _compare_pickled(self, path: str, a: Any, b: Any, *, note: str) -> None:
        import pickle

        try:
            pickled_a, pickled_b = pickle.dumps(a, protocol=5), pickle.dumps(b, protocol=5)
        except Exception:
            repr_a, repr_b = _strip_addresses(repr(a)), _strip_addresses(repr(b))
            if repr_a != repr_b:
                self.report(path, f"{_shorten(repr_a)} != {_shorten(repr_b)}{note}")
            return
        if pickled_a != pickled_b:
            offset = _common_prefix_length(memoryview(pickled_a), memoryview(pickled_b))
            self.report(
                path,
                f"{_type_name(a)} pickles differently (first difference at byte {offset} "
                f"of {len(pickled_a)} and {len(pickled_b)}){note}",
            )


def _object_state(value: Any) -> dict[str, Any]:
    """Return an object's attributes, from its ``__dict__`` and from every ``__slots__`` in its MRO."""
    state = dict(getattr(value, "__dict__", None) or {})
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(value, name):
                state.setdefault(name, getattr(value, name))
    return state


@dataclass(frozen=True)
class _Structure:
    """Where a composite estimator keeps its named children."""

    source: str  # attribute holding (name, estimator[, columns]) tuples
    accessor: str  # attribute that looks children up by name, used in paths
    params: frozenset[str]  # get_params keys covered by walking the children
    attributes: frozenset[str]  # fitted attributes covered by walking the children


def _structure(estimator: Any) -> _Structure | None:
    classes = {cls.__name__ for cls in type(estimator).__mro__}
    if "Pipeline" in classes:
        return _Structure("steps", "named_steps", frozenset({"steps"}), frozenset())
    if "ColumnTransformer" in classes and hasattr(estimator, "transformers_"):
        return _Structure(
            "transformers_",
            "named_transformers_",
            frozenset({"transformers"}),
            frozenset({"transformers_"}),
        )
    if "FeatureUnion" in classes:
        return _Structure(
            "transformer_list", "named_transformers", frozenset({"transformer_list"}), frozenset()
        )
    return None


def _fitted_attributes(estimator: Any, skip: frozenset[str]) -> dict[str, Any]:
    """Return the public attributes set by fit: sklearn names them with a trailing underscore."""
    return {
        name: value
        for name, value in getattr(estimator, "__dict__", {}).items()
        if name.endswith("_") and not name.startswith("_") and name not in skip
    }


def _params(estimator: Any) -> dict[str, Any] | None:
    try:
        params = estimator.get_params(deep=False)
    except Exception:
        return None
    return dict(params) if isinstance(params, dict) else None


def _is_estimator(value: Any) -> bool:
    return not isinstance(value, type) and callable(getattr(type(value), "get_params", None))


def _is_tree(value: Any) -> bool:
    """Recognise sklearn's compiled Tree without importing sklearn's private module."""
    return type(value).__name__ == "Tree" and all(
        hasattr(value, name) for name in ("node_count", "children_left", "threshold")
    )


def _describe_node(tree: Any, node: int) -> str:
    if tree.children_left[node] == -1:  # sklearn's TREE_LEAF
        return "leaf"
    return f"x[{int(tree.feature[node])}] <= {float(tree.threshold[node]):.4g}"


# --------------------------------------------------------------------------- unseeded


def _unseeded_lines(np: Any, model_a: Any, model_b: Any, *, limit: int) -> list[str]:
    """Name every estimator, in either run, whose ``random_state`` parameter is None."""
    found: dict[str, list[Any]] = {}
    for run, model in (("a", model_a), ("b", model_b)):
        for path, class_name in _find_unseeded(np, "model", model):
            found.setdefault(path, [class_name, set()])[1].add(run)
    lines = []
    for path, (class_name, runs) in found.items():
        where = "" if len(runs) == 2 else f" (run {next(iter(runs))} only)"
        lines.append(f"{path}.random_state is None: {class_name} is unseeded{where}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"(+{len(lines) - limit} more unseeded estimators)"]
    return lines


def _find_unseeded(np: Any, root: str, model: Any) -> Iterator[tuple[str, str]]:
    seen: set[int] = set()

    def visit(path: str, value: Any, depth: int) -> Iterator[tuple[str, str]]:
        if depth > MAX_DEPTH or id(value) in seen:
            return
        if _is_estimator(value):
            seen.add(id(value))
            params = _params(value)
            if params is None:
                return
            if "random_state" in params:
                if params["random_state"] is None:
                    yield path, type(value).__name__
                # An estimator with its own random_state seeds the clones it fits (forests,
                # bagging, boosting), so its sub-estimators' None is not a separate cause.
                return
            yield from _children(path, value, params, depth)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                yield from visit(f"{path}[{index}]", item, depth + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from visit(f"{path}[{_key(key)}]", item, depth + 1)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "O":
            for index in np.ndindex(value.shape):
                yield from visit(f"{path}[{', '.join(map(str, index))}]", value[index], depth + 1)

    def _children(path: str, estimator: Any, params: dict[str, Any], depth: int) -> Iterator[tuple[str, str]]:
        structure = _structure(estimator)
        if structure is not None:
            items = getattr(estimator, structure.source, None) or []
            for item in items:
                if isinstance(item, tuple) and len(item) >= 2:
                    child_path = f"{path}.{structure.accessor}[{_key(item[0])}]"
                    yield from visit(child_path, item[1], depth + 1)
        skip = structure.params if structure else frozenset()
        for key, item in params.items():
            if key not in skip:
                yield from visit(f"{path}.{key}", item, depth + 1)
        skip = structure.attributes if structure else frozenset()
        for key, item in _fitted_attributes(estimator, skip).items():
            yield from visit(f"{path}.{key}", item, depth + 1)

    yield from visit(root, model, 0)


# --------------------------------------------------------------------------- model files


def diff_model_files(
    path_a: str | os.PathLike[str],
    path_b: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_paths: int = 8,
) -> Difference | None:
    """Compare two joblib model files: bytes first, then the loaded estimators path by path."""
    name = name or Path(path_a).name
    found = _bytes_difference(path_a, path_b)
    if found is None:
        return None
    what, byte_details = found
    if not (Path(path_a).is_file() and Path(path_b).is_file()):
        return Difference("model", f"{name} differs: {what}", tuple(byte_details))

    import joblib

    # Both files are this plugin's own fresh training outputs, so unpickling them is safe.
    try:
        model_a, model_b = joblib.load(path_a), joblib.load(path_b)
    except Exception as error:
        return Difference(
            "model",
            f"{name} differs: {what}",
            (*byte_details, f"could not load with joblib: {type(error).__name__}: {error}"),
        )
    report = _compare_models(model_a, model_b, max_paths=max_paths)
    bytes_line = f"bytes: {what}"
    if not report.count:
        return Difference(
            "model",
            f"{name} differs: objects equal; the pickled bytes differ, {_PICKLE_CAUSE}",
            (bytes_line, *byte_details),
        )
    count = f"at least {report.count}" if report.truncated else str(report.count)
    plural = "path differs" if report.count == 1 and not report.truncated else "paths differ"
    return Difference(
        "model",
        f"{name} differs: {count} attribute {plural}",
        (*report.lines(), bytes_line, *byte_details),
    )


# --------------------------------------------------------------------------- folds


def diff_folds(folds_a: Any, folds_b: Any) -> Difference | None:
    """Compare two cross-validation splits given as lists of test-index lists."""
    folds_a = [[int(i) for i in fold] for fold in folds_a]
    folds_b = [[int(i) for i in fold] for fold in folds_b]
    if folds_a == folds_b:
        return None

    total = max(len(folds_a), len(folds_b))
    fold_lines = []
    for number, (fold_a, fold_b) in enumerate(zip(folds_a, folds_b, strict=False), start=1):
        if fold_a == fold_b:
            continue
        set_a, set_b = set(fold_a), set(fold_b)
        moved = max(len(set_a - set_b), len(set_b - set_a))
        if moved == 0:
            fold_lines.append(
                f"fold {number} of {total}: same {len(set_a)} test indices, "
                "in a different order or with different repeats"
            )
            continue
        sizes = "" if len(fold_a) == len(fold_b) else f" (sizes {len(fold_a)} != {len(fold_b)})"
        fold_lines.append(f"fold {number} of {total}: {moved} of {len(fold_a)} test indices differ{sizes}")
    details = _capped(fold_lines, MAX_FOLD_LINES)

    if sorted(map(sorted, folds_a)) == sorted(map(sorted, folds_b)):
        details.insert(0, "the same folds in a different order")
    home_a = {row: number for number, fold in enumerate(folds_a, start=1) for row in fold}
    home_b = {row: number for number, fold in enumerate(folds_b, start=1) for row in fold}
    rows = home_a.keys() | home_b.keys()
    changed = sorted(row for row in rows if home_a.get(row) != home_b.get(row))
    if changed:
        examples = ", ".join(
            f"row {row} fold {home_a.get(row, '-')} -> {home_b.get(row, '-')}" for row in changed[:3]
        )
        details.append(f"{len(changed)} of {len(rows)} rows changed fold, e.g. {examples}")

    differing = f"{len(fold_lines)} of {min(len(folds_a), len(folds_b))}"
    if len(folds_a) != len(folds_b):
        summary = (
            f"folds differ: {len(folds_a)} folds != {len(folds_b)} folds ({differing} shared folds differ)"
        )
    else:
        summary = f"folds differ: {differing} folds have different test indices"
    return Difference("folds", summary, tuple(details))


# --------------------------------------------------------------------------- metrics


def diff_metrics(a: Any, b: Any, *, tolerance: float = 0.0) -> Difference | None:
    """Compare two JSON-like trees leaf by leaf; numbers within `tolerance` count as equal."""
    return _diff_json("metrics", a, b, tolerance)


def diff_json_files(
    name: str, path_a: str | os.PathLike[str], path_b: str | os.PathLike[str], tolerance: float = 0.0
) -> Difference | None:
    """Compare two JSON files: bytes first, then, when both parse, value by value."""
    _check_tolerance(tolerance)
    found = _bytes_difference(path_a, path_b)
    if found is None:
        return None
    what, byte_details = found
    bytes_line = f"bytes: {what}"
    if not (Path(path_a).is_file() and Path(path_b).is_file()):
        return Difference(name, f"{name} {_differs(name)}: {what}", tuple(byte_details))

    import json

    parsed = []
    for run, path in (("a", path_a), ("b", path_b)):
        try:
            parsed.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as error:
            return Difference(
                name,
                f"{name} {_differs(name)}: {what}",
                (f"not valid JSON in run {run}: {error}", *byte_details),
            )
    values = _diff_json(name, parsed[0], parsed[1], tolerance)
    if values is not None:
        return Difference(name, values.summary, (*values.details, bytes_line, *byte_details))
    if _diff_json(name, parsed[0], parsed[1], 0.0) is not None:
        return None  # every difference is within the tolerance the caller allowed
    return Difference(
        name,
        f"{name} {_differs(name)}: the JSON values are equal; only formatting or key order differs",
        (bytes_line, *byte_details),
    )


def _diff_json(subject: str, a: Any, b: Any, tolerance: float) -> Difference | None:
    _check_tolerance(tolerance)
    found: list[tuple[float, str, str]] = []  # (|Δ| or inf, pointer, message)
    within = _walk_json("", a, b, tolerance, found, 0)
    leaves = _count_json_union(a, b)
    if not found:
        return None

    # Structural differences (missing keys, changed types) rank above every number.
    found.sort(key=lambda item: -item[0])
    lines = [f"{pointer or '(root)'}: {message}" for _, pointer, message in found]
    details = _capped(lines, MAX_METRIC_LINES)
    if within:
        details.append(f"({within} numeric differences within tolerance {tolerance:g} ignored)")
    numeric = [item for item in found if math.isfinite(item[0])]
    largest = ""
    if numeric:
        delta, pointer, _ = max(numeric, key=lambda item: item[0])
        largest = f", largest |Δ| {_g(delta)} at {pointer or '(root)'}"
    summary = f"{subject} {_differs(subject)}: {len(found)} of {leaves} values differ{largest}"
    return Difference(subject, summary, tuple(details))


def _walk_json(pointer: str, a: Any, b: Any, tolerance: float, found: list, depth: int) -> int:
    """Append (rank, pointer, message) for each differing leaf; return how many were tolerated."""
    within = 0
    if depth > MAX_DEPTH:
        if a != b:
            found.append((math.inf, pointer, f"{_short(a)} != {_short(b)}"))
        return 0
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            child = f"{pointer}/{_escape_pointer(str(key))}"
            if key not in b:
                found.append((math.inf, child, f"only in run a ({_short(a[key])})"))
            elif key not in a:
                found.append((math.inf, child, f"only in run b ({_short(b[key])})"))
            else:
                within += _walk_json(child, a[key], b[key], tolerance, found, depth + 1)
        return within
    if isinstance(a, list) and isinstance(b, list):
        for index in range(max(len(a), len(b))):
            child = f"{pointer}/{index}"
            if index >= len(b):
                found.append((math.inf, child, f"only in run a ({_short(a[index])})"))
            elif index >= len(a):
                found.append((math.inf, child, f"only in run b ({_short(b[index])})"))
            else:
                within += _walk_json(child, a[index], b[index], tolerance, found, depth + 1)
        return within
    if _is_number(a) and _is_number(b):
        if a == b or (_is_nan(a) and _is_nan(b)):
            return 0
        delta = abs(a - b)
        if not math.isfinite(delta):
            found.append((math.inf, pointer, f"{a!r} != {b!r}"))
            return 0
        if delta <= tolerance:
            return 1
        found.append((float(delta), pointer, f"{a!r} != {b!r} ({_delta_text(a, b)})"))
        return 0
    if type(a) is not type(b) or a != b:
        found.append((math.inf, pointer, f"{_short(a)} != {_short(b)}"))
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


def _escape_pointer(token: str) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _check_tolerance(tolerance: float) -> None:
    if not _is_number(tolerance) or not tolerance >= 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}")


# --------------------------------------------------------------------------- threshold


def diff_threshold(text_a: str | bytes, text_b: str | bytes) -> Difference | None:
    """Compare two decision-threshold texts, numerically when both parse as floats."""
    if isinstance(text_a, bytes):
        text_a = text_a.decode("utf-8", "replace")
    if isinstance(text_b, bytes):
        text_b = text_b.decode("utf-8", "replace")
    stripped_a, stripped_b = text_a.strip(), text_b.strip()
    if stripped_a == stripped_b:
        return None
    value_a, value_b = _parse_float(stripped_a), _parse_float(stripped_b)
    runs = (f"run a: {stripped_a!r}", f"run b: {stripped_b!r}")
    if value_a is None or value_b is None:
        unparsed = [run for run, value in (("a", value_a), ("b", value_b)) if value is None]
        return Difference(
            "threshold",
            f"threshold differs: {_short(stripped_a)} != {_short(stripped_b)}",
            (*runs, f"not a number in run {' and '.join(unparsed)}"),
        )
    if value_a == value_b or (math.isnan(value_a) and math.isnan(value_b)):
        return Difference(
            "threshold",
            f"threshold text differs but the value is equal: {stripped_a!r} vs {stripped_b!r}",
            runs,
        )
    delta = value_b - value_a
    change = ""
    if math.isfinite(delta):
        change = f" (Δ {delta:+.3g}, {_relative_text(value_a, value_b)})"
    return Difference("threshold", f"threshold differs: {value_a!r} != {value_b!r}{change}", runs)


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- formatting


def _array_message(np: Any, a: Any, b: Any) -> str | None:
    """Describe how two non-object arrays differ, with pytest-regressions-style statistics."""
    if a.shape != b.shape:
        return f"shape {a.shape} != {b.shape}"
    dtype_note = "" if a.dtype == b.dtype else f"dtype {a.dtype} != {b.dtype}; "
    if a.ndim == 0:
        item_a, item_b = a.item(), b.item()
        if _scalars_equal(item_a, item_b):
            return dtype_note + "values equal" if dtype_note else None
        return f"{dtype_note}{_short(item_a)} != {_short(item_b)}"
    try:
        with np.errstate(all="ignore"):
            differ = np.asarray(a != b)
            if a.dtype.kind in "fc" and b.dtype.kind in "fc":
                differ &= ~(np.isnan(a) & np.isnan(b))
    except Exception:
        differ = None
    if differ is None or differ.shape != a.shape:
        # Structured or exotic dtypes that do not compare elementwise: fall back to raw bytes.
        if a.tobytes() != b.tobytes():
            return f"{dtype_note}raw bytes differ"
        return dtype_note + "values equal" if dtype_note else None

    count = int(np.count_nonzero(differ))
    if count == 0:
        return dtype_note + "values equal" if dtype_note else None
    stats = ""
    if a.dtype.kind in "iufc" and b.dtype.kind in "iufc":
        kind = np.complex128 if "c" in (a.dtype.kind, b.dtype.kind) else np.float64
        with np.errstate(all="ignore"):
            x, y = a[differ].astype(kind), b[differ].astype(kind)
            delta = np.abs(x - y)
            finite = np.isfinite(delta)
            if finite.any():
                scale = np.maximum(np.abs(x), np.abs(y))[finite]
                relative = np.where(scale > 0, delta[finite] / np.where(scale > 0, scale, 1), 0)
                stats = (
                    f", max |Δ| {_g(float(delta[finite].max()))} (max relative {float(relative.max()):.1e})"
                )
        odd = count - int(np.count_nonzero(finite))
        if odd:
            stats += f", {odd} involve NaN or inf"
    flat = int(np.flatnonzero(differ)[0])
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    first = f"; first at {_index_text(index)}: {_short(a[index].item())} != {_short(b[index].item())}"
    return f"{dtype_note}{count} of {a.size} elements differ{stats}{first}"


def _simple_sequence_message(a: list, b: list, shape: tuple[int, ...] | None = None) -> str | None:
    """Describe how two sequences of plain values differ (object arrays, lists)."""
    if len(a) != len(b):
        differing = sum(not _scalars_equal(x, y) for x, y in zip(a, b, strict=False))
        return f"length {len(a)} != {len(b)} ({differing} of the first {min(len(a), len(b))} differ)"
    differing_at = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if not _scalars_equal(x, y)]
    if not differing_at:
        return None
    deltas = [
        abs(a[i] - b[i])
        for i in differing_at
        if _is_number(a[i]) and _is_number(b[i]) and math.isfinite(abs(a[i] - b[i]))
    ]
    stats = f", max |Δ| {_g(max(deltas))}" if deltas else ""
    first = differing_at[0]
    return (
        f"{len(differing_at)} of {len(a)} elements differ{stats}; "
        f"first at {_index_text(_unravel(first, shape or (len(a),)))}: "
        f"{_short(a[first])} != {_short(b[first])}"
    )


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Turn a row-major flat position into an index tuple, like numpy.unravel_index."""
    index = []
    for size in reversed(shape):
        flat, position = divmod(flat, size)
        index.append(position)
    return tuple(reversed(index))


def _is_simple(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, complex, str, bytes))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _scalars_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        if a == b:
            return True
        return _is_nan_like(a) and _is_nan_like(b)
    return type(a) is type(b) and a == b


def _is_nan_like(value: Any) -> bool:
    try:
        return bool(value != value)
    except Exception:
        return False


def _delta_text(a: float, b: float) -> str:
    return f"|Δ| {_g(abs(a - b))}, {_relative_text(a, b)}"


def _relative_text(a: float, b: float) -> str:
    scale = max(abs(a), abs(b))
    relative = abs(a - b) / scale if scale else 0.0
    return f"relative {relative:.1e}"


def _g(value: float) -> str:
    return f"{value:.3g}"


def _index_text(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def _key(key: Any) -> str:
    # numpy 2 renders np.str_ keys as "np.str_('x')"; paths should read like plain Python.
    if isinstance(key, str):
        return repr(str(key))
    return repr(key)


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a broken __repr__ must not break the diagnosis
        text = f"<{_type_name(value)}: repr failed with {type(error).__name__}>"
    return _shorten(_strip_addresses(text))


def _shorten(text: str) -> str:
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def _strip_addresses(text: str) -> str:
    return _ADDRESS.sub("", text)


def _type_name(value: Any) -> str:
    return type(value).__qualname__


def _qualified_name(value: Any) -> str:
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"


def _callable_identity(value: Any) -> tuple[Any, ...]:
    code = getattr(value, "__code__", None)
    if code is None:
        return (_qualified_name(value),)
    return (_qualified_name(value), code.co_code, repr(code.co_consts))


def _capped(lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"(+{len(lines) - limit} more)"]


def _differs(subject: str) -> str:
    # "metrics differ", "folds differ", but "threshold differs", "model.joblib differs".
    return "differ" if subject.endswith("s") else "differs"
