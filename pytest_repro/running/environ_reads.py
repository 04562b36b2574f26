"""Which of the contract's cooperation variables a training read, seen from inside its process.

The `n_jobs`, `workers` and `row_order` variations only test something when the
training reads `REPRO_N_JOBS`, `REPRO_WORKERS` or `REPRO_ROW_ORDER_SEED`.  A training that never looks at them gives
an identical output for a reason that proves nothing, so the worker watches
`os.environ` (through which `os.getenv` and `os.environ.get` also go) and the hunt
reports such a variation as *not exercised* instead of identical.
"""

from __future__ import annotations

import os

from pytest_repro.contract import N_JOBS_VARIABLE, ROW_ORDER_VARIABLE, WORKERS_VARIABLE

WATCHED = frozenset({N_JOBS_VARIABLE, ROW_ORDER_VARIABLE, WORKERS_VARIABLE})
_read: set[str] = set()


class _WatchedEnviron(os._Environ):  # type: ignore[name-defined,misc]  # os.environ's own class
    """os.environ, noting each watched name that is looked up (by [], get, getenv or `in`)."""

    def __getitem__(self, key: str) -> str:
        if key in WATCHED:
            _read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if key in WATCHED:
            _read.add(str(key))
        return super().__contains__(key)


def watch_environ() -> None:
    """Start noting reads of the watched variables in this process (the worker, before training)."""
    os.environ.__class__ = _WatchedEnviron


def variables_read() -> list[str]:
    """The watched variables read since `watch_environ`, sorted."""
    return sorted(_read)
