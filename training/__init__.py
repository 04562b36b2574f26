"""A small, config-driven scikit-learn pipeline whose every run is reproducible and verifiable.

Public entry points: `train` (train and publish artifacts), `load_config`
(validate a config file), `verify_lineage` (re-hash what a lineage names) and
`train_for_repro` (the pytest-repro entry point).  Imports are lazy so that the
plugin can import this package without paying for scikit-learn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_config", "train", "train_for_repro", "verify_lineage"]


def __getattr__(name: str) -> Any:
    if name in ("train", "train_for_repro"):
        from training import run as module
    elif name == "load_config":
        from training import config as module
    elif name == "verify_lineage":
        from training import lineage as module
    else:
        raise AttributeError(f"module 'training' has no attribute {name!r}")
    return getattr(module, name)
