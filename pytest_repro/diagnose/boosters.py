"""Find the gradient-boosting models of LightGBM, XGBoost and CatBoost, in memory and on disk.

Their trees live in C++ behind a handle that the model walk cannot see into (and a
handle's repr says nothing), so each is read through its library's own dump instead:
LightGBM's model text, XGBoost's and CatBoost's JSON.  In memory, a model is
recognised by its class and module, without importing the library; on disk, by the
first bytes of the file (`tree_model_format`), whatever its name.  Reading a dump
never needs the library, except to turn XGBoost's binary UBJSON or CatBoost's .cbm
into their JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.diagnose.catboost_json import (
    CBM_MAGIC,
    cbm_to_json,
    looks_like_catboost,
    model_json,
    read_catboost_json,
)
from pytest_repro.diagnose.lightgbm_text import is_lightgbm_text, read_lightgbm_text
from pytest_repro.diagnose.tree_ensembles import TreeEnsemble
from pytest_repro.diagnose.xgboost_json import (
    is_xgboost_ubjson,
    looks_like_xgboost,
    read_xgboost_json,
    ubjson_to_json,
)

# Bytes of a file enough to recognise every format below.
HEAD_SIZE = 64
_XGBOOST_JSON = re.compile(rb'\A\s*\{\s*"learner"\s*:')
_CATBOOST_JSON = re.compile(rb'\A\s*\{\s*"features_info"\s*:')


@dataclass(frozen=True)
class LibraryModel:
    """A library's model object: its trees as dumped, and its Python-level parameters and state."""

    ensemble: TreeEnsemble
    params: Mapping[str, Any] = field(default_factory=dict)  # compared leaving out the ignored names
    state: Mapping[str, Any] = field(default_factory=dict)  # everything else the object holds in Python
    params_path: str = ".params"  # how a path names `params` on the object


def library_model(value: Any) -> LibraryModel | str | None:
    """Read a LightGBM or XGBoost Booster, or a fitted CatBoost model, through its own dump.

    None when `value` is none of those; a line saying why when it is one but its dump
    failed (the caller reports it: an unread model is never equal to another).
    """
    cls = type(value)
    library = cls.__module__.partition(".")[0]
    try:
        if library == "lightgbm" and cls.__name__ == "Booster":
            # num_iteration=-1: every tree, not only those up to the best iteration.
            ensemble = read_lightgbm_text(value.model_to_string(num_iteration=-1))
            state = _python_state(value)
            return LibraryModel(ensemble, dict(state.pop("params", None) or {}), state)
        if library == "xgboost" and cls.__name__ == "Booster":
            ensemble = read_xgboost_json(json.loads(bytes(value.save_raw(raw_format="json"))))
            return LibraryModel(ensemble, {}, _python_state(value))
        if library == "catboost" and hasattr(value, "_object") and _fitted(value):
            state = _python_state(value)
            state.pop("_object", None)  # the C++ model, which the dump shows
            params = dict(state.pop("_init_params", None) or {})
            params.update(_prefixed(state.pop("_canonized_params", None) or {}, "canonized."))
            return LibraryModel(read_catboost_json(model_json(value)), params, state, ".get_params()")
    except Exception as error:
        return f"{cls.__qualname__} could not be dumped: {type(error).__name__}: {error}"
    return None


def shown_attribute(owner: Any, name: str) -> str:
    """How a path names an estimator's attribute: its library's public accessor for the booster it wraps."""
    library = type(owner).__module__.partition(".")[0]
    if name == "_Booster":
        return {"lightgbm": "booster_", "xgboost": "get_booster()"}.get(library, name)
    return name


def tree_model_format(head: bytes) -> str | None:
    """Name the tree-model format a file's first bytes announce, or None."""
    if is_lightgbm_text(head):
        return "LightGBM model text"
    if _XGBOOST_JSON.match(head):
        return "XGBoost JSON"
    if is_xgboost_ubjson(head):
        return "XGBoost UBJSON"
    if _CATBOOST_JSON.match(head):
        return "CatBoost JSON"
    if head.startswith(CBM_MAGIC):
        return "CatBoost binary"
    return None


def read_tree_model(path: Path) -> TreeEnsemble | str:
    """Read a saved LightGBM, XGBoost or CatBoost model file; or one line saying why it could not be."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_SIZE)
    found = tree_model_format(head)
    try:
        if found == "LightGBM model text":
            return read_lightgbm_text(path.read_text(encoding="utf-8"))
        if found == "XGBoost UBJSON":
            data: Any = ubjson_to_json(str(path))
        elif found == "CatBoost binary":
            data = cbm_to_json(str(path))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, str):
            return data
        if looks_like_xgboost(data):
            return read_xgboost_json(data)
        if looks_like_catboost(data):
            return read_catboost_json(data)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        return f"not read as {found or 'a tree model'}: {type(error).__name__}: {error}"
    return f"not read as {found or 'a tree model'}: its content is not one"


def _python_state(value: Any) -> dict[str, Any]:
    """The object's attributes but its ctypes handles: those point at the C++ model the dump shows."""
    return {name: item for name, item in vars(value).items() if type(item).__module__ != "ctypes"}


def _fitted(value: Any) -> bool:
    try:
        return bool(value.is_fitted())
    except Exception:
        return False


def _prefixed(params: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {f"{prefix}{key}": item for key, item in params.items()}
