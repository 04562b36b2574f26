"""pytest-repro: prove that a training is reproducible, as one pytest flag.

`pytest --repro` trains your training twice in isolated processes and fails, naming
the cause, when the two runs differ.  The library underneath is public too:

- `pytest_repro.lineage`: hashing, atomic publishing, the lineage manifest
  (`write_lineage`, `Publication`, `verify_lineage`, `check`), signing, pins,
  `load_model`;
- `pytest_repro.errors`: the one error base class and the exit codes;
- `pytest_repro.schema` and `pytest_repro.strategies`: describe a config, validate it,
  and fuzz it with hypothesis (the `hypothesis` extra).

Names below are imported lazily, so loading the plugin costs almost nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "write_lineage": "pytest_repro.lineage.writing",
    "Publication": "pytest_repro.lineage.writing",
    "read_lineage": "pytest_repro.lineage.manifest",
    "verify_lineage": "pytest_repro.lineage.verify",
    "check": "pytest_repro.lineage.check",
    "load_model": "pytest_repro.lineage.model_loading",
    "pin_dataset": "pytest_repro.lineage.pins",
    "check_dataset_pin": "pytest_repro.lineage.pins",
    "ReproError": "pytest_repro.errors",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one home: the package metadata written from pyproject.toml
        from importlib.metadata import version

        return version("pytest-repro")
    if name not in _HOMES:
        raise AttributeError(f"module 'pytest_repro' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
