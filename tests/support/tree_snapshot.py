"""A whole project tree as data, so a test can show that a run left a user's project exactly as it was.

`snapshot(root)` records every file, folder and symbolic link under `root` (the root
itself as "."), ignored files, `.git` and `.dvc` included, nothing skipped: a file by
its SHA-256, size and mode, a folder by its mode, a link by its target (never
followed).  `describe_difference(before, after)` says what changed in a form that
reads well as an assertion message.  Modification times are left out: a run that reads
a file, or rewrites it byte for byte, has not changed the project.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SHOWN_PATHS = 20  # an assertion message lists at most this many added, removed or changed paths each


@dataclass(frozen=True)
class Entry:
    """One path of a tree: what it is and what identifies its content."""

    kind: str  # "file", "folder", "symlink" or "other" (a socket, a fifo)
    mode: int  # the permission bits, with setuid, setgid and sticky
    size: int | None = None  # files only
    sha256: str | None = None  # files only
    target: str | None = None  # symbolic links only

    def describe(self) -> str:
        """Return the entry as one short phrase: `file 0o644 120 bytes sha256 1a2b3c4d5e6f`."""
        if self.kind == "file":
            return f"file {oct(self.mode)} {self.size} bytes sha256 {(self.sha256 or '')[:12]}"
        if self.kind == "symlink":
            return f"symlink -> {self.target}"
        return f"{self.kind} {oct(self.mode)}"


def snapshot(root: Path) -> dict[str, Entry]:
    """Return every path under `root` (relative POSIX path, "." for the root) with its `Entry`."""
    root = Path(root)
    entries = {".": _entry(root)}
    for folder, subfolders, names in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in sorted(subfolders) + sorted(names):
            path = here / name
            entries[path.relative_to(root).as_posix()] = _entry(path)
    return entries


def _entry(path: Path) -> Entry:
    info = path.lstat()
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return Entry("symlink", mode, target=os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return Entry("folder", mode)
    if stat.S_ISREG(info.st_mode):
        return Entry("file", mode, size=info.st_size, sha256=_sha256(path))
    return Entry("other", mode)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_difference(before: dict[str, Entry], after: dict[str, Entry]) -> str:
    """Return what changed from `before` to `after`, one path a line, or "" when the trees are equal."""
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(p for p in before.keys() & after.keys() if before[p] != after[p])
    if not (added or removed or changed):
        return ""
    lines = [f"the project changed: {len(added)} added, {len(removed)} removed, {len(changed)} changed"]
    lines += _listed("added", added, lambda p: after[p].describe())
    lines += _listed("removed", removed, lambda p: before[p].describe())
    lines += _listed("changed", changed, lambda p: f"{before[p].describe()} -> {after[p].describe()}")
    return "\n".join(lines)


def _listed(what: str, paths: list[str], describe: Callable[[str], str]) -> list[str]:
    lines = [f"  {what:<7} {p}: {describe(p)}" for p in paths[:SHOWN_PATHS]]
    if len(paths) > SHOWN_PATHS:
        lines.append(f"  ... and {len(paths) - SHOWN_PATHS} more {what}")
    return lines
