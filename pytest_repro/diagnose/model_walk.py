"""Walk two fitted models in parallel and record one line per attribute path that differs.

The walk follows what a fitted estimator is made of: its ``get_params`` first (a
changed hyperparameter usually explains everything fitted below it), then the named
children of a Pipeline, ColumnTransformer or FeatureUnion, then the fitted
attributes ending in ``_`` (an ensemble's ``estimators_``, a tree's node arrays), then
everything else it holds (private attributes: a LightGBM or XGBoost wrapper keeps its
booster in ``_Booster``).  Arrays are described by array_stats; the boosters of
LightGBM, XGBoost and CatBoost by their own dumps (boosters.py); other objects by
their state, or by their own serialization (``__getstate__``, then pickled bytes).
Nothing the walk cannot see into is ever taken as equal: an object that neither
pickles nor shows its content is reported as not compared.  Parameters named in
`ignored` (``n_jobs``, under any library's name for it) are left out, and only they.
numpy is passed in by the caller, which imports it lazily.
"""

from __future__ import annotations

import pickle
import types
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pytest_repro.diagnose.array_stats import array_message, simple_sequence_message
from pytest_repro.diagnose.boosters import LibraryModel, library_model, shown_attribute
from pytest_repro.diagnose.bytes_diff import common_prefix_length
from pytest_repro.diagnose.estimators import (
    TREE_ARRAYS,
    TREE_SCALARS,
    Structure,
    fitted_attributes,
    is_estimator,
    is_tree,
    node_count_message,
    params_of,
    structure_of,
)
from pytest_repro.diagnose.object_state import callable_identity, object_state, serialized_state
from pytest_repro.diagnose.parameter_names import is_ignored
from pytest_repro.diagnose.rendering import (
    key_text,
    qualified_name,
    short,
    shorten,
    strip_addresses,
    type_name,
)
from pytest_repro.diagnose.scalars import is_simple, scalars_equal
from pytest_repro.diagnose.tree_ensembles import TreeEnsemble, ensemble_lines

# Deeper than this, nested objects are compared by their pickled bytes only.
MAX_DEPTH = 40


class Stop(Exception):
    """Raised inside a walk once enough differing paths have been found."""


def objects_differ(np: Any, a: Any, b: Any, ignored: Collection[str] = ()) -> bool:
    """Return whether `a` and `b` differ, stopping the walk at the first difference."""
    probe = Walker(np, 0, ignored)
    try:
        probe.compare("", a, b, 0)
    except Stop:
        return True
    return False


class Walker:
    """Compare two object trees in parallel, recording one line per differing path."""

    def __init__(self, np: Any, max_paths: int, ignored: Collection[str] = ()) -> None:
        self.np = np
        self.max_paths = max_paths
        self.ignored = frozenset(ignored)
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
        elif isinstance(a, TreeEnsemble):
            self.compare_ensembles(path, a, b, depth)
        elif (library_a := library_model(a)) is not None:
            self._compare_library_models(path, library_a, library_model(b), depth)
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
            if callable_identity(a) != callable_identity(b):
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
                differing += objects_differ(self.np, x, y, self.ignored)
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
            state_a, state_b = object_state(a), object_state(b)
            self._compare_attributes(path, a, self._unignored(state_a), self._unignored(state_b), depth)
            return
        skip = structure.params if structure else frozenset()
        self._compare_params(
            f"{path}.get_params()",
            {k: v for k, v in params_a.items() if k not in skip},
            {k: v for k, v in params_b.items() if k not in skip},
            depth,
        )
        covered = set(params_a) | set(params_b)
        if structure is not None:
            covered |= structure.attributes
            self._compare_named_children(path, a, b, structure, depth)

        fitted_a, fitted_b = (
            fitted_attributes(a, frozenset(covered)),
            fitted_attributes(b, frozenset(covered)),
        )
        self._compare_mappings(path, fitted_a, fitted_b, depth, lambda k: f"{path}.{k}")
        # Then everything else it holds: private state can carry what was learned (a booster).
        covered |= set(fitted_a) | set(fitted_b)
        rest_a = {k: v for k, v in object_state(a).items() if k not in covered}
        rest_b = {k: v for k, v in object_state(b).items() if k not in covered}
        self._compare_attributes(path, a, self._unignored(rest_a), self._unignored(rest_b), depth)

    def _unignored(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """`state` without the attributes that hold an ignored parameter (scikit-learn's `_n_threads`)."""
        return {k: v for k, v in state.items() if not is_ignored(str(k), self.ignored)}

    def _compare_attributes(
        self, path: str, owner: Any, a: Mapping[str, Any], b: Mapping[str, Any], depth: int
    ) -> None:
        self._alive.append((a, b))
        self._compare_mappings(path, dict(a), dict(b), depth, lambda k: f"{path}.{shown_attribute(owner, k)}")

    def _compare_params(self, path: str, a: Mapping[str, Any], b: Mapping[str, Any], depth: int) -> None:
        """Compare two parameter mappings, leaving out the ignored parameters under any of their names."""
        kept_a, kept_b = self._unignored(a), self._unignored(b)
        self._alive.append((kept_a, kept_b))
        self._compare_mappings(path, kept_a, kept_b, depth, lambda k: f"{path}[{key_text(k)}]")

    # -- LightGBM, XGBoost, CatBoost

    def _compare_library_models(
        self, path: str, a: LibraryModel | str, b: LibraryModel | str | None, depth: int
    ) -> None:
        """Compare two boosters through their libraries' dumps, then their Python-level parameters and state."""
        if not isinstance(a, LibraryModel) or not isinstance(b, LibraryModel):
            reason = (
                a if isinstance(a, str) else b if isinstance(b, str) else "run b holds another kind of object"
            )
            self.report(path, f"not compared: {reason}")
            return
        self.compare_ensembles(path, a.ensemble, b.ensemble, depth)
        self._compare_params(f"{path}{a.params_path}", a.params, b.params, depth)
        self._compare_attributes(path, None, a.state, b.state, depth)

    def compare_ensembles(self, path: str, a: TreeEnsemble, b: TreeEnsemble, depth: int = 0) -> None:
        """Compare two tree ensembles: trees and nodes, then the model-level values and recorded parameters."""
        for suffix, message in ensemble_lines(a, b):
            self.report(f"{path}{suffix}", message)
        if a.library != b.library:
            return
        self._compare_attributes(path, None, a.header, b.header, depth)
        # The parameters the model file records, as its library names them.
        self._compare_params(f"{path}.parameters", a.params, b.params, depth)

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
            self.report(path, node_count_message(np, a, b))
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
        state_a, state_b = serialized_state(a), serialized_state(b)
        if state_a is None or state_b is None:
            state_a, state_b = object_state(a), object_state(b)
        if state_a or state_b:
            self._alive.append((state_a, state_b))
            self._compare_mappings(path, state_a, state_b, depth, lambda k: f"{path}.{k}")
            return
        self._compare_pickled(path, a, b, note="")

    def _compare_pickled(self, path: str, a: Any, b: Any, *, note: str) -> None:
        try:
            pickled_a, pickled_b = pickle.dumps(a, protocol=5), pickle.dumps(b, protocol=5)
        except Exception as error:
            # Neither walked nor serialized: never call it equal, whatever its repr shows.
            repr_a, repr_b = strip_addresses(repr(a)), strip_addresses(repr(b))
            shown = f"{shorten(repr_a)} != {shorten(repr_b)}" if repr_a != repr_b else type_name(a)
            self.report(path, f"{shown}: not compared, it does not pickle ({type(error).__name__}){note}")
            return
        if pickled_a != pickled_b:
            offset = common_prefix_length(memoryview(pickled_a), memoryview(pickled_b))
            self.report(
                path,
                f"{type_name(a)} pickles differently (first difference at byte {offset} "
                f"of {len(pickled_a)} and {len(pickled_b)}){note}",
            )
