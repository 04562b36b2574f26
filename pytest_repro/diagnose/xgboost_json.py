"""Read XGBoost's JSON model (``save_model("m.json")``, ``Booster.save_raw("json")``) into a `TreeEnsemble`.

XGBoost keeps each tree as parallel arrays indexed by node id: ``left_children`` and
``right_children`` (-1 for a leaf), ``split_indices`` (the feature), ``split_conditions``
(a split's threshold, or a leaf's value), ``default_left``, ``split_type`` and the
training statistics (``base_weights``, ``loss_changes``, ``sum_hessian``).  The model
itself holds no training parameters (they are in ``save_config()``), so `params` is
empty.  The binary form (UBJSON, ``.ubj``) is turned into this JSON by XGBoost itself,
when it is installed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from pytest_repro.diagnose.tree_ensembles import Node, Tree, TreeEnsemble

LIBRARY = "XGBoost"
# A tree's arrays that describe the nodes themselves; the other per-node arrays are statistics.
_STRUCTURE = frozenset(
    {"left_children", "right_children", "split_indices", "split_conditions", "default_left", "split_type"}
)
# Kept with every tree but implied by the others (a node's parent) or by its position (its id).
_DERIVED = frozenset({"parents", "id"})
_LEAF = -1


def looks_like_xgboost(data: Any) -> bool:
    """Whether parsed JSON is an XGBoost model: a ``learner`` holding a ``gradient_booster``."""
    learner = data.get("learner") if isinstance(data, dict) else None
    return isinstance(learner, dict) and "gradient_booster" in learner


def is_xgboost_ubjson(head: bytes) -> bool:
    """Whether a file's first bytes are XGBoost's UBJSON model: an object whose first key is ``learner``."""
    return head[:1] == b"{" and b"learner" in head[:24] and not head[1:2].isspace() and head[1:2] != b'"'


def ubjson_to_json(path: str) -> dict[str, Any] | str:
    """XGBoost's binary model as its JSON, through XGBoost itself; or one line saying why not."""
    try:
        import xgboost
    except ImportError:
        return "an XGBoost UBJSON model; xgboost is not installed to read it (pip install xgboost)"
    try:
        booster = xgboost.Booster(model_file=path)
        return json.loads(bytes(booster.save_raw(raw_format="json")))
    except Exception as error:  # a damaged file, or a format newer than this xgboost
        return f"xgboost could not read it: {type(error).__name__}: {error}"


def read_xgboost_json(data: Mapping[str, Any]) -> TreeEnsemble:
    """Turn an XGBoost JSON model into a `TreeEnsemble`; raise ValueError if it is not one."""
    if not looks_like_xgboost(data):
        raise ValueError("not an XGBoost model (no learner.gradient_booster)")
    learner = dict(data["learner"])
    # Copies along the way down to the trees, which are compared as trees, not as header values.
    gradient = dict(learner.pop("gradient_booster"))
    holder = gradient
    if "gbtree" in gradient:  # DART wraps the tree model in "gbtree" and adds each tree's weight
        holder = gradient["gbtree"] = dict(gradient["gbtree"])
    model = holder["model"] = dict(holder.get("model", {}))
    trees = model.pop("trees", [])
    header = {**learner, "gradient_booster": gradient, "version": data.get("version")}
    return TreeEnsemble(LIBRARY, tuple(_tree(tree) for tree in trees), header, {})


def _tree(tree: Mapping[str, Any]) -> Tree:
    left, right = tree["left_children"], tree["right_children"]
    width = 1
    with contextlib.suppress(KeyError, TypeError, ValueError):
        width = int(tree["tree_param"]["size_leaf_vector"]) or 1
    nodes: list[Node] = []
    stack = [0] if left else []
    while stack:
        index = stack.pop()
        if left[index] == _LEAF:
            if width > 1:  # a multi-output leaf keeps its vector in base_weights
                value = tuple(float(v) for v in tree["base_weights"][index * width : (index + 1) * width])
            else:
                value = (float(tree["split_conditions"][index]),)
            nodes.append(Node(f"leaf {index}", None, value=value))
            continue
        nodes.append(Node(f"node {index}", *_split(tree, index)))
        stack += [right[index], left[index]]
    stats, fields = {}, {}
    for name, values in tree.items():
        if name in _STRUCTURE or name in _DERIVED:
            continue
        if isinstance(values, list) and all(isinstance(v, (int, float)) for v in values):
            stats[name] = tuple(float(v) for v in values)
        else:
            fields[name] = values
    return Tree(tuple(nodes), stats, fields)


def _split(tree: Mapping[str, Any], index: int) -> tuple[str, float | None, tuple[()], str]:
    feature = tree["split_indices"][index]
    note = "missing goes left" if tree.get("default_left", [0] * (index + 1))[index] else ""
    if tree.get("split_type", [0] * (index + 1))[index]:
        # Categorical: the categories going right are in `categories`, segmented per node.
        nodes = tree.get("categories_nodes", [])
        if index in nodes:
            at = nodes.index(index)
            start, size = tree["categories_segments"][at], tree["categories_sizes"][at]
            categories = tree["categories"][start : start + size]
        else:
            categories = []
        return f"x[{feature}] not in {{{', '.join(map(str, categories))}}}", None, (), note
    return f"x[{feature}] <", float(tree["split_conditions"][index]), (), note
