"""Open a file only if it is a regular file: a FIFO or a device is refused at once, never read.

Reading a FIFO blocks until someone writes to it, and `/dev/zero` never ends, so an
input path pointing at either would hang a training, a check or a hook forever.  The
file is opened without blocking (so a FIFO with no writer does not wait), and its type
is taken from the open descriptor, so it cannot change between the check and the read.
The refusal is an OSError: every reader already turns those into one line naming the
file (`cannot read ... (not a regular file: a FIFO)`).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFileError(OSError):
    """The path is a FIFO, a device or a socket: reading it could block or never end."""


def file_kind(mode: int) -> str:
    """Name what a file of this `st_mode` is, as the refusals say it: "a FIFO", "a folder"..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def irregular_kind(path: str | os.PathLike[str]) -> str | None:
    """What `path` is when it exists and is not a regular file ("a FIFO"), else None; never opens it.

    `os.stat` follows links without opening the file, so a FIFO does not block here.
    A path that cannot be looked up (missing, a link loop) is None: whoever reads it says why.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) else file_kind(mode)


def open_regular(path: str | os.PathLike[str], *, buffering: int = -1) -> BinaryIO:
    """Open `path` for binary reading if it is a regular file; IsADirectoryError or NotRegularFileError otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(errno.EINVAL, f"not a regular file: {file_kind(mode)}", str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """Return up to `limit` + 1 bytes of a regular file (so a caller can tell an oversized one)."""
    with open_regular(Path(path)) as handle:
        return handle.read(limit + 1)
