"""SHA-256 of files and bytes: the one hashing function every check in the project uses."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pytest_repro.regular_files import open_regular

CHUNK_SIZE = 1 << 20  # 1 MiB: large enough for full hashlib throughput, small enough for flat memory


def sha256_bytes(data: bytes) -> str:
    """Return the hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk_size: int = CHUNK_SIZE) -> str:
    """Return the hex SHA-256 of a file, streamed in fixed-size chunks so memory stays flat.

    A 10 GB dataset hashes in `chunk_size` bytes of memory; the buffer is reused
    (`readinto`) so no chunk-sized object is allocated per read.
    """
    digest = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    with open_regular(path, buffering=0) as handle:  # a FIFO or a device would never end
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            digest.update(view[:count])
    return digest.hexdigest()
