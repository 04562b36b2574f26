"""How many cores the plugin may use: the CPU affinity of this process, not the machine's count."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), not merely those the machine has.

    What a training without `REPRO_WORKERS` may use, and what the plugin shares among its runs.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity on this platform
        return max(1, os.cpu_count() or 1)
