"""Describe the machine a benchmark ran on, for the tables in the README."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe_machine() -> str:
    """Return one line: CPU model, cores, memory, Python and OS."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory = f", {int(first[1]) / 1024 / 1024:.0f} GiB memory"
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (zeros where the platform has none), to judge the noise."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return [0.0, 0.0, 0.0]
