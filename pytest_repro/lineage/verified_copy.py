"""Copy a file a lineage names into a private folder and hash the copy: what is then opened is what was hashed.

Unpickling runs code, so a file is loaded only when its bytes equal a verified
lineage's hash.  Hashing the original and loading it afterwards leaves a window in
which whoever can write the original swaps it (replaces it, or rewrites it in place
keeping its size and mtime).  Copying once into a folder only we can write (mode 0700,
created by us), hashing that copy and loading that same copy closes the window, at the
cost of one extra write of the file.  `load_model` and a recorded run that stands in
for run-a (`pytest --repro --repro-against`) both load through here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pytest_repro.core.regular_files import open_regular
from pytest_repro.errors import LineageError
from pytest_repro.lineage.hashing import sha256_file


def copy_and_hash(source: Path, copy: Path, *, shown: Path | str, what: str) -> str:
    """Copy the regular file `source` to the new file `copy` (mode 0600) and return the copy's SHA-256.

    `what` names the file in the one-line LineageError ("model": `model file not found`):
    missing, a folder, a FIFO or a device, unreadable, or no room to copy it.
    """
    try:
        reader = open_regular(source)
    except FileNotFoundError:
        raise LineageError(f"{shown}: {what} file not found") from None
    except IsADirectoryError:
        raise LineageError(f"{shown}: is a folder, not a {what} file") from None
    except PermissionError:
        raise LineageError(f"{shown}: permission denied reading the {what}") from None
    except OSError as exc:
        raise LineageError(f"{shown}: cannot read the {what} ({exc.strerror})") from None
    with reader:
        try:
            copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
        except OSError as exc:
            raise LineageError(
                f"{shown}: cannot copy the {what} to a private temporary folder ({exc.strerror}); "
                "set TMPDIR to a folder with room for it"
            ) from None
    return sha256_file(copy)
