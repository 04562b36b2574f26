"""The console scripts: `repro-check`, `repro-vary`, `repro-run`, `repro-hook`, `repro-pin`, `repro-export`, `repro-keygen`.

Each `repro_*` module is one command's front door (`repro_check` is `repro-check`, and so
on): it parses its arguments, reads the project's settings the way pytest does
(`project_settings`, through `pytest_repro.settings`), calls the core packages
(`lineage`, `running`, `variations`, `report`) and turns their errors into one line on
stderr and a documented exit status (`common.run_cli`; the codes are in
`pytest_repro.errors`).
"""

from __future__ import annotations

from typing import Any

# What a project's own command line may reuse: the parser convention and the one mapping of
# errors to exit codes (the demo's `python -m training` is built on them).
__all__ = ["make_parser", "run_cli"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'pytest_repro.cli' has no attribute {name!r}")
    from pytest_repro.cli import common

    return getattr(common, name)
