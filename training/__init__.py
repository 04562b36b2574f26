"""A small, config-driven scikit-learn pipeline: pytest-repro's first user.

Public entry points: `train` (train and publish artifacts through the plugin's
`Publication`), `load_config` (validate a config file) and `train_for_repro` (the
function the project's `repro_train` ini setting names).  Imports are lazy so that
naming this package in an ini setting costs nothing until a training runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_config", "train", "train_for_repro"]


def __getattr__(name: str) -> Any:
    if name in ("train", "train_for_repro"):
        from training import run as module
    elif name == "load_config":
        from training import config as module
    else:
        raise AttributeError(f"module 'training' has no attribute {name!r}")
    return getattr(module, name)
