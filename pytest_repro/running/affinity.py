"""Start a run on fewer CPUs: the CPU affinity a child process is born with.

Linux keeps a CPU affinity per thread, and a forked process starts with the mask of
the thread that forked it.  So the thread that starts a run narrows its own mask,
starts the process and restores the mask at once: the run, its interpreter's startup
and every process it starts in turn (a command's script, joblib's workers) see only
the CPUs given, before anything in them could read the count (an OpenMP or BLAS
library reads it when it loads).  The same as ``taskset``, without needing it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def cpu_set() -> frozenset[int] | None:
    """The CPUs this process may run on, or None where the platform has no CPU affinity (macOS)."""
    getter = getattr(os, "sched_getaffinity", None)
    return frozenset(getter(0)) if getter is not None else None


@contextlib.contextmanager
def inherited_affinity(cpus: frozenset[int] | None) -> Iterator[None]:
    """Within the block, processes this thread starts run on `cpus` only (None: no change)."""
    if cpus is None:
        yield
        return
    # Thread 0 is the calling thread (sched_setaffinity(2)): other threads keep their CPUs.
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
