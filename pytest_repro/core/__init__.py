"""The foundations every other subpackage stands on; they import only `pytest_repro.errors`.

`entry_points` is the contract between a user's training and the plugin (load the
`module:function`, check what it returns), `run_records` what to train and what a run
left, `seed_bounds` the seeds every library accepts, `environment_names` the variables
the plugin sets in a run, `timeouts` the default run timeout, `core_count` the cores
this process may use; `config_files` reads a YAML config safely, `schema` describes and
validates one, `parsing` and `regular_files` are the strict readers beneath them,
`paths` shows a path relative to the project, `outcomes` holds the outcome words, and
`private_apis` is the one home of every reach into a private pytest or library API.

The names of `schema` and `config_files` that a project may use (the demo's config is
built on them) are offered here, imported lazily.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Each public name with the module it lives in (the same pattern as pytest_repro.lineage).
_HOMES = {
    **dict.fromkeys(("parse_yaml_bytes", "read_config_bytes", "read_yaml"), "config_files"),
    **dict.fromkeys(
        (
            "LeafSpec",
            "Rule",
            "SectionSpec",
            "iter_leaves",
            "iter_sections",
            "leaf",
            "optional_sections",
            "section",
            "short_repr",
            "validate",
        ),
        "schema",
    ),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'pytest_repro.core' has no attribute {name!r}")
    return getattr(import_module(f"pytest_repro.core.{_HOMES[name]}"), name)
