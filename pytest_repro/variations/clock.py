"""Where libfaketime is, for the `time` variation (which preloads it to move the training's clock)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Set to a libfaketime.so.1 to use one installed somewhere else.
LIBRARY_VARIABLE = "REPRO_LIBFAKETIME"
_NAME = "libfaketime.so.1"
_FOLDERS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib",
    "/usr/local/lib",
    "/usr/lib64",
)


def find_libfaketime() -> Path | None:
    """The libfaketime shared library (Linux only: macOS preloads differently), or None."""
    configured = os.environ.get(LIBRARY_VARIABLE)
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    if not sys.platform.startswith("linux"):
        return None
    for folder in _FOLDERS:
        for candidate in (Path(folder) / "faketime" / _NAME, Path(folder) / _NAME):
            if candidate.is_file():
                return candidate
    return None
