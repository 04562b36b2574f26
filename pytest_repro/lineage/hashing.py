"""SHA-256 of files and bytes: the one hashing function every check in the project uses.

`file_digests` computes several digests in the same streamed pass, for exports to tools
that name files by another hash (DVC records MD5): the file is read once, so the MD5
and the SHA-256 describe the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_repro.core.regular_files import open_regular

CHUNK_SIZE = 1 << 20  # 1 MiB: large enough for full hashlib throughput, small enough for flat memory


def sha256_bytes(data: bytes) -> str:
    """Return the hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk_size: int = CHUNK_SIZE) -> str:
    """Return the hex SHA-256 of a file, streamed in fixed-size chunks so memory stays flat.

    A 10 GB dataset hashes in `chunk_size` bytes of memory; the buffer is reused
    (`readinto`) so no chunk-sized object is allocated per read.
    """
    return file_digests(path, ("sha256",), chunk_size).hexdigests["sha256"]


@dataclass(frozen=True)
class FileDigests:
    """The hex digests of one read of a file, by hashlib name, and its size in bytes."""

    hexdigests: dict[str, str]
    size: int


def file_digests(
    path: str | Path, algorithms: Sequence[str] = ("sha256", "md5"), chunk_size: int = CHUNK_SIZE
) -> FileDigests:
    """Return the digests of a file under each of `algorithms`, from one streamed read.

    Each chunk is fed to every digest before the next is read, so all of them (and the
    size) describe the same bytes even if the file changes while it is read.
    """
    # MD5 only names a file for tools that use it (DVC); it protects nothing, so FIPS builds allow it.
    digests = {name: hashlib.new(name, usedforsecurity=name != "md5") for name in algorithms}
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    size = 0
    with open_regular(path, buffering=0) as handle:  # a FIFO or a device would never end
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            size += count
            for digest in digests.values():
                digest.update(view[:count])
    return FileDigests({name: digest.hexdigest() for name, digest in digests.items()}, size)
