"""A small, config-driven scikit-learn pipeline: pytest-repro's first user.

`train` trains and publishes the artifacts through the plugin's `Publication`,
`load_config` validates a config file, and `train_for_repro` is the function the
project's `repro_train` ini setting names.  Imports are lazy, so naming this package in
an ini setting costs nothing until a training runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_config", "train", "train_for_repro"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'training' has no attribute {name!r}")
    from training import config, run

    return getattr(config if name == "load_config" else run, name)
