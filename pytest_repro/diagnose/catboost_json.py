"""Read CatBoost's JSON model (``save_model("m.json", format="json")``) into a `TreeEnsemble`.

CatBoost grows oblivious trees by default: one split per level, shared by every node of
that level, and 2**depth leaves (times the number of outputs) in ``leaf_values``.  A tree
is read as its splits, level by level, then its leaves.  The training parameters sit
in ``model_info.params`` (nested by group; flattened here to ``group.name``).  Every
model CatBoost saves also records a fresh ``model_guid`` and its ``train_finish_time``:
two trainings never write the same bytes, and the diagnosis says so.  The binary
``.cbm`` is turned into this JSON by CatBoost itself, when it is installed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from pytest_repro.diagnose.tree_ensembles import Node, Tree, TreeEnsemble

LIBRARY = "CatBoost"
CBM_MAGIC = b"CBM1"


def looks_like_catboost(data: Any) -> bool:
    """Whether parsed JSON is a CatBoost model of oblivious trees."""
    return isinstance(data, dict) and "oblivious_trees" in data and "features_info" in data


def model_json(model: Any) -> dict[str, Any]:
    """A fitted CatBoost model (or one loaded from .cbm) as its JSON, written by CatBoost to a temporary file."""
    handle, path = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    try:
        model.save_model(path, format="json")
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    finally:
        os.unlink(path)


def cbm_to_json(path: str) -> dict[str, Any] | str:
    """CatBoost's binary model as its JSON, through CatBoost itself; or one line saying why not."""
    try:
        import catboost
    except ImportError:
        return "a CatBoost binary model; catboost is not installed to read it (pip install catboost)"
    try:
        model = catboost.CatBoost()
        model.load_model(path)
        return model_json(model)
    except Exception as error:
        return f"catboost could not read it: {type(error).__name__}: {error}"


def read_catboost_json(data: Mapping[str, Any]) -> TreeEnsemble:
    """Turn a CatBoost JSON model into a `TreeEnsemble`; raise ValueError if it is not one."""
    if not looks_like_catboost(data):
        raise ValueError("not a CatBoost model of oblivious trees")
    header = {key: value for key, value in data.items() if key != "oblivious_trees"}
    info = dict(header.get("model_info") or {})
    params = _flattened(info.pop("params", {}) or {})
    header["model_info"] = info
    return TreeEnsemble(LIBRARY, tuple(_tree(tree) for tree in data["oblivious_trees"]), header, params)


def _tree(tree: Mapping[str, Any]) -> Tree:
    splits = tree.get("splits") or []
    leaves = [float(v) for v in tree.get("leaf_values") or []]
    count = 2 ** len(splits)
    width = max(1, len(leaves) // count) if leaves else 1
    nodes = [Node(f"level {level}", *_split(split)) for level, split in enumerate(splits)]
    nodes += [
        Node(f"leaf {leaf}", None, value=tuple(leaves[leaf * width : (leaf + 1) * width]))
        for leaf in range(len(leaves) // width)
    ]
    stats = {"leaf_weights": tuple(float(v) for v in tree.get("leaf_weights") or [])}
    fields = {k: v for k, v in tree.items() if k not in ("splits", "leaf_values", "leaf_weights")}
    return Tree(tuple(nodes), stats, fields)


def _split(split: Mapping[str, Any]) -> tuple[str, float | None]:
    if "float_feature_index" in split:
        return f"x[{split['float_feature_index']}] >", float(split["border"])
    # A one-hot or CTR split: named by everything but its border, which is compared as a number.
    rest = {k: v for k, v in split.items() if k not in ("border", "split_index")}
    border = split.get("border")
    return json.dumps(rest, sort_keys=True) + (" >" if border is not None else ""), (
        float(border) if border is not None else None
    )


def _flattened(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flattened(value, f"{name}."))
        else:
            flat[name] = value
    return flat
