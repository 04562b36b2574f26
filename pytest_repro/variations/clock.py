"""The `time` variation's shifted wall clock: a small preloaded library, built on first use.

Twins run at the same moment, so a feature computed from today's date (an account's
age from `now()`) passes them and changes the model tomorrow.  The variation moves the
wall clock of the varied run ahead by preloading `clock_shift.c`, compiled here with
the machine's C compiler: it shifts `clock_gettime(CLOCK_REALTIME)`, `gettimeofday`
and `time` (what Python's `time` and `datetime`, numpy and pandas read) and leaves
monotonic clocks, sleeps and timed waits alone.  libfaketime, the usual tool, also
rewrites waits: under it Python 3.11's timed lock waits hung and `time.sleep` failed
with EINVAL, which would make every threaded training a false alarm.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

OFFSET_VARIABLE = "REPRO_CLOCK_OFFSET_SECONDS"
SOURCE = Path(__file__).with_name("clock_shift.c")
LIBRARY_NAME = "libreproclock.so"
COMPILE_SECONDS = 60


def compiler() -> str | None:
    """The C compiler to build the library with ($CC, else cc or gcc on PATH), or None."""
    configured = os.environ.get("CC")
    if configured:
        return shutil.which(configured)
    return shutil.which("cc") or shutil.which("gcc")


def unavailable_reason() -> str | None:
    """Why the clock cannot be shifted here, or None."""
    if not sys.platform.startswith("linux"):
        return "the shifted clock is a Linux preload library (LD_PRELOAD)"
    if compiler() is None:
        return "no C compiler (cc or gcc, or $CC) to build the shifted clock with"
    return None


def build_library(folder: Path) -> Path:
    """Compile the library into `folder` (once per folder) and return its path; raises OSError on failure."""
    target = folder / LIBRARY_NAME
    if target.is_file():
        return target
    cc = compiler()
    if cc is None:
        raise OSError("no C compiler to build the shifted clock with")
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{LIBRARY_NAME}.{os.getpid()}"
    done = subprocess.run(
        [cc, "-O2", "-shared", "-fPIC", "-o", str(partial), str(SOURCE), "-ldl"],
        capture_output=True,
        text=True,
        timeout=COMPILE_SECONDS,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise OSError(f"{Path(cc).name} could not build the shifted clock: {last}")
    os.replace(partial, target)
    return target
