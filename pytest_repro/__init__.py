"""pytest-repro: prove that a training is reproducible, as one pytest flag.

`pytest --repro` trains your training twice in isolated processes and fails, naming
the cause, when the two runs differ.  The library underneath is public too:

- `pytest_repro.lineage`: hashing, atomic publishing, the lineage manifest
  (`write_lineage`, `Publication`, `verify_lineage`, `check`), signing, pins,
  `load_model`;
- `pytest_repro.errors`: the one error base class and the exit codes;
- `pytest_repro.core` (its schema and YAML reader) and `pytest_repro.strategies`: describe a config, validate it,
  and fuzz it with hypothesis (the `hypothesis` extra).

Names below are imported lazily, so loading the plugin costs almost nothing.

PYTEST_DONT_REWRITE: the package's asserts are internal invariants, never a user's test
assertions, so pytest's assertion rewriting has nothing to add.  Saying so also keeps
an in-process pytest session (pytester) quiet where pytest could not rewrite the
package: an editable install is served by setuptools' own import finder, which pytest's
rewriting hook does not consult, so bare `pytest` imports the plugin unrewritten, and
a nested session that finds the checkout on sys.path (pythonpath = ".") would warn
"Module already imported so cannot be rewritten".
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# The lineage names re-exported here have their one home in pytest_repro.lineage's table.
_LINEAGE_NAMES = (
    "write_lineage",
    "Publication",
    "read_lineage",
    "verify_lineage",
    "check",
    "load_model",
    "pin_dataset",
    "check_dataset_pin",
)
_HOMES = {**dict.fromkeys(_LINEAGE_NAMES, "pytest_repro.lineage"), "ReproError": "pytest_repro.errors"}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one home: the package metadata written from pyproject.toml
        from importlib.metadata import version

        return version("pytest-repro")
    if name not in _HOMES:
        raise AttributeError(f"module 'pytest_repro' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
