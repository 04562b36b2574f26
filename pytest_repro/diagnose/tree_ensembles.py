"""Compare two gradient-boosted tree ensembles (LightGBM, XGBoost, CatBoost) tree by tree, node by node.

Each library's own dump (LightGBM's model text, XGBoost's and CatBoost's JSON) is read
into one `TreeEnsemble` by its own reader (lightgbm_text, xgboost_json, catboost_json);
the comparison here is the same for all of them.  Two trees of the same shape (the same
splits on the same features, in the same place) line up node by node, so their
thresholds, leaf values and per-node statistics are compared as numbers; for a tree
whose shape differs, the first node where it does is named.  Pure Python: no library
is needed to compare two dumps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_repro.diagnose.rendering import g, short
from pytest_repro.diagnose.scalars import scalars_equal


@dataclass(frozen=True)
class Node:
    """One node of a tree, named in the library's own numbering: a split, or a leaf and its value."""

    name: str  # "node 3", "leaf 5", "level 2": as the library numbers it
    split: str | None  # what a split tests, without its threshold ("x[4] <=", "x[3] in {1, 4}"); None: a leaf
    threshold: float | None = None  # a numeric split's threshold
    value: tuple[float, ...] = ()  # a leaf's value (several for a multi-output leaf)
    note: str = ""  # how the split sends missing values ("missing goes left")

    def describe(self) -> str:
        """Render the node as its split (``x[4] <= 0.1234``) or as a leaf with its value."""
        if self.split is None:
            shown = ", ".join(f"{v:.6g}" for v in self.value)
            return f"{self.name} = {shown}" if len(self.value) == 1 else f"{self.name} = [{shown}]"
        threshold = "" if self.threshold is None else f" {self.threshold:.6g}"
        note = f" ({self.note})" if self.note else ""
        return f"{self.name}: {self.split}{threshold}{note}"


@dataclass(frozen=True)
class Tree:
    """One tree: its nodes depth-first from the root, and the other numbers the library keeps per tree.

    `stats` holds per-node training statistics (split gains, hessian sums, leaf counts) and
    per-tree numbers (shrinkage); `fields` anything else the library writes for the tree.
    """

    nodes: tuple[Node, ...]
    stats: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[tuple[str | None, str], ...]:
        return tuple((node.split, node.note) for node in self.nodes)


@dataclass(frozen=True)
class TreeEnsemble:
    """A tree ensemble as its library dumps it: the trees, the model-level values, the recorded parameters."""

    library: str
    trees: tuple[Tree, ...]
    header: Mapping[str, Any] = field(default_factory=dict)  # objective, feature names, base score...
    params: Mapping[str, Any] = field(default_factory=dict)  # the training parameters the model records


# The numbers that make the model: every other per-node number is a training statistic.
_NODES = ("threshold", "leaf_value")


@dataclass
class _Numbers:
    """Paired numbers of one kind (thresholds, leaf values, a statistic) over the trees of the same shape."""

    compared: int = 0
    differing: int = 0
    largest: float = 0.0
    largest_relative: float = 0.0
    odd: int = 0  # pairs involving NaN or inf
    first: str = ""

    def add(self, where: str, a: float, b: float) -> None:
        self.compared += 1
        if scalars_equal(a, b):
            return
        self.differing += 1
        if not self.first:
            self.first = f"{where}: {a:.6g} != {b:.6g}"
        delta = abs(a - b)
        if not math.isfinite(delta):
            self.odd += 1
            return
        scale = max(abs(a), abs(b))
        self.largest = max(self.largest, delta)
        self.largest_relative = max(self.largest_relative, delta / scale if scale else 0.0)

    def message(self, among: str) -> str:
        stats = f", max |Δ| {g(self.largest)} (max relative {self.largest_relative:.1e})"
        if self.odd == self.differing:
            stats = ""
        elif self.odd:
            stats += f", {self.odd} involve NaN or inf"
        return f"{self.differing} of {self.compared} differ {among}{stats}; first at {self.first}"


def ensemble_lines(a: TreeEnsemble, b: TreeEnsemble) -> Iterator[tuple[str, str]]:
    """Yield (path suffix, message) for each way the trees of `a` and `b` differ, most telling first.

    Header and parameters are left to the caller, which walks them as mappings.
    """
    if a.library != b.library:
        yield "", f"a {a.library} model != a {b.library} model"
        return
    if len(a.trees) != len(b.trees):
        yield ".trees", f"{len(a.trees)} trees != {len(b.trees)} trees (the first {_common(a, b)} compared)"
    pairs = list(zip(a.trees, b.trees, strict=False))
    reshaped = [index for index, (x, y) in enumerate(pairs) if x.shape != y.shape]
    same = [index for index, (x, y) in enumerate(pairs) if x.shape == y.shape]
    numbers = _paired_numbers(pairs, same)
    changed = sorted(
        set(reshaped) | {index for index in same if _tree_differs(pairs[index][0], pairs[index][1])}
    )
    if changed:
        kinds = [f"{len(reshaped)} in shape"] if reshaped else []
        if len(changed) > len(reshaped):
            kinds.append(f"{len(changed) - len(reshaped)} in numbers only")
        yield ".trees", f"{len(changed)} of {len(pairs)} trees differ ({', '.join(kinds)})"
    if reshaped:
        index = reshaped[0]
        yield f".trees[{index}]", _first_reshaped_node(pairs[index][0], pairs[index][1])
    among = f"in the {len(same)} trees of the same shape"
    for name in ("threshold", "leaf_value"):
        if numbers[name].differing:
            yield f".trees[*].{name}", numbers[name].message(among)
    stats = {name: found for name, found in numbers.items() if found.differing and name not in _NODES}
    if stats and (reshaped or any(numbers[name].differing for name in _NODES)):
        # What was learned already differs: the training statistics follow, in one line.
        counts = ", ".join(f"{name} {found.differing} of {found.compared}" for name, found in stats.items())
        yield ".trees[*]", f"statistics differ as well: {counts}"
    else:
        for name, found in stats.items():
            yield f".trees[*].{name}", found.message(among)
    for index in same:
        for key in sorted(set(pairs[index][0].fields) | set(pairs[index][1].fields)):
            value_a, value_b = pairs[index][0].fields.get(key), pairs[index][1].fields.get(key)
            if value_a != value_b:
                yield f".trees[{index}].{key}", f"{short(value_a)} != {short(value_b)}"


def _common(a: TreeEnsemble, b: TreeEnsemble) -> int:
    return min(len(a.trees), len(b.trees))


def _paired_numbers(pairs: Sequence[tuple[Tree, Tree]], same: Sequence[int]) -> dict[str, _Numbers]:
    """Thresholds, leaf values and every statistic, paired node by node over the trees of the same shape."""
    numbers: dict[str, _Numbers] = {"threshold": _Numbers(), "leaf_value": _Numbers()}
    for index in same:
        x, y = pairs[index]
        for node_a, node_b in zip(x.nodes, y.nodes, strict=True):
            where = f"tree {index} {node_a.name}"
            if node_a.threshold is not None and node_b.threshold is not None:
                numbers["threshold"].add(where, node_a.threshold, node_b.threshold)
            for position, (value_a, value_b) in enumerate(zip(node_a.value, node_b.value, strict=False)):
                suffix = f"[{position}]" if len(node_a.value) > 1 else ""
                numbers["leaf_value"].add(where + suffix, value_a, value_b)
        for name in sorted(set(x.stats) | set(y.stats)):
            found = numbers.setdefault(name, _Numbers())
            stats_a, stats_b = x.stats.get(name, ()), y.stats.get(name, ())
            for position, (value_a, value_b) in enumerate(zip(stats_a, stats_b, strict=False)):
                found.add(f"tree {index} [{position}]", value_a, value_b)
            if len(stats_a) != len(stats_b):
                found.compared += 1
                found.differing += 1
                found.first = found.first or f"tree {index}: {len(stats_a)} values != {len(stats_b)}"
    return numbers


def _tree_differs(a: Tree, b: Tree) -> bool:
    if a.fields != b.fields or set(a.stats) != set(b.stats):
        return True
    for node_a, node_b in zip(a.nodes, b.nodes, strict=True):
        if not _all_equal((node_a.threshold,), (node_b.threshold,)) or not _all_equal(
            node_a.value, node_b.value
        ):
            return True
    return any(not _all_equal(a.stats[name], b.stats[name]) for name in a.stats)


def _all_equal(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(scalars_equal(x, y) for x, y in zip(a, b, strict=True))


def _first_reshaped_node(a: Tree, b: Tree) -> str:
    """Name the first node, depth-first, where two trees of different shapes part."""
    sizes = f"{len(a.nodes)} nodes != {len(b.nodes)} nodes; " if len(a.nodes) != len(b.nodes) else ""
    for node_a, node_b in zip(a.nodes, b.nodes, strict=False):
        if (node_a.split, node_a.note) != (node_b.split, node_b.note):
            return f"{sizes}first differing {node_a.describe()} != {node_b.describe()}"
    return f"{sizes}one is the beginning of the other"
