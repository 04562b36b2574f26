"""How a path is shown to a user (relative to the project when it lies inside), and how a glob matches one."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path


def matches_any(relative: str, patterns: Iterable[str]) -> bool:
    """Whether the POSIX path `relative` matches one of the globs (`**` spans folders)."""
    return any(_match(relative, pattern) for pattern in patterns)


def _match(relative: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    # "models/**/*.pkl" should also match "models/a.pkl": let `**/` match nothing.
    return "**/" in pattern and fnmatch.fnmatchcase(relative, pattern.replace("**/", ""))


def shown_path(path: Path | str, root: Path | str | None = None) -> str:
    """Return `path` relative to `root` (default: the working directory) in POSIX form, or as it is.

    Messages and summaries name files the way a user would type them from the project,
    and never turn a path outside it into a confusing chain of `..`.
    """
    path = Path(path)
    base = Path.cwd() if root is None else Path(root)
    for candidate, start in ((path, base), (path.resolve(), base.resolve())):
        try:
            return candidate.relative_to(start).as_posix()
        except ValueError:
            continue
    return str(path)
