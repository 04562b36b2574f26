"""Atomic, deterministic writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync, then os.replace."""
    path = Path(path)
    with _temporary_beside(path) as (handle, _):
        handle.write(data)


@contextlib.contextmanager
def open_atomic(path: str | Path) -> Iterator[Any]:
    """Yield a binary handle whose content replaces `path` only if the block completes."""
    with _temporary_beside(Path(path)) as (handle, _):
        yield handle


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[tuple[Any, Path]]:
    """Yield a temporary file beside `path`, renamed over it if the block completes.

    A file system that refuses (a missing or read-only folder, a full disk) is one
    ArtifactError naming `path`; the temporary file is removed and `path` is untouched.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise
    fsync_folder(path.parent)


def _cannot_write(path: Path, exc: OSError) -> Exception:
    from pytest_repro.core.paths import shown_path
    from pytest_repro.errors import ArtifactError

    if isinstance(exc, FileNotFoundError) and not path.parent.is_dir():
        reason = f"folder {shown_path(path.parent)} does not exist"
    else:
        reason = exc.strerror or type(exc).__name__
    return ArtifactError(f"{shown_path(path)}: cannot write ({reason}); nothing was written")


def fsync_folder(folder: Path) -> None:
    """Persist the rename itself; not every platform lets a folder be opened, so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def canonical_json(data: Any) -> bytes:
    """Serialise to JSON with sorted keys, fixed indentation and shortest round-trip floats.

    NaN and infinity are written as null: they are not JSON, and a metric that is
    undefined (no positive prediction) must not make the file unreadable elsewhere.
    """
    return (json.dumps(_finite(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _finite(value.item())
    return value


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write `data` as canonical JSON, atomically."""
    write_bytes_atomic(path, canonical_json(data))
