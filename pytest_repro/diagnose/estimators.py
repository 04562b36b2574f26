"""Recognise scikit-learn's shapes without importing scikit-learn.

An estimator is anything with a ``get_params`` method; its fitted state is its public
attributes ending in ``_``; composites (Pipeline, ColumnTransformer, FeatureUnion) keep
named children; a fitted tree keeps its nodes in parallel arrays.  Duck typing keeps
the diagnosis working for estimators of other libraries that follow the same
conventions, and keeps scikit-learn an optional extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
# sklearn's TREE_LEAF: the child index of a leaf.
TREE_LEAF = -1


@dataclass(frozen=True)
class Structure:
    """Where a composite estimator keeps its named children."""

    source: str  # attribute holding (name, estimator[, columns]) tuples
    accessor: str  # attribute that looks children up by name, used in paths
    params: frozenset[str]  # get_params keys covered by walking the children
    attributes: frozenset[str]  # fitted attributes covered by walking the children


def structure_of(estimator: Any) -> Structure | None:
    """Return where `estimator` keeps its named children, or None for a plain estimator."""
    classes = {cls.__name__ for cls in type(estimator).__mro__}
    if "Pipeline" in classes:
        return Structure("steps", "named_steps", frozenset({"steps"}), frozenset())
    if "ColumnTransformer" in classes and hasattr(estimator, "transformers_"):
        return Structure(
            "transformers_",
            "named_transformers_",
            frozenset({"transformers"}),
            frozenset({"transformers_"}),
        )
    if "FeatureUnion" in classes:
        return Structure(
            "transformer_list", "named_transformers", frozenset({"transformer_list"}), frozenset()
        )
    return None


def fitted_attributes(estimator: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Return the public attributes set by fit: sklearn names them with a trailing underscore."""
    return {
        name: value
        for name, value in getattr(estimator, "__dict__", {}).items()
        if name.endswith("_") and not name.startswith("_") and name not in skip
    }


def params_of(estimator: Any) -> dict[str, Any] | None:
    """Return ``get_params(deep=False)`` as a dict, or None when the estimator cannot give them."""
    try:
        params = estimator.get_params(deep=False)
    except Exception:
        return None
    return dict(params) if isinstance(params, dict) else None


def is_estimator(value: Any) -> bool:
    """Return whether `value` is an estimator instance (not a class)."""
    return not isinstance(value, type) and callable(getattr(type(value), "get_params", None))


def is_tree(value: Any) -> bool:
    """Recognise sklearn's compiled Tree without importing sklearn's private module."""
    return type(value).__name__ == "Tree" and all(
        hasattr(value, name) for name in ("node_count", "children_left", "threshold")
    )


def describe_node(tree: Any, node: int) -> str:
    """Render one tree node as its split (``x[3] <= 0.5``) or as a leaf."""
    if tree.children_left[node] == TREE_LEAF:
        return "leaf"
    return f"x[{int(tree.feature[node])}] <= {float(tree.threshold[node]):.4g}"


def node_count_message(np: Any, a: Any, b: Any) -> str:
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
