"""How a path is shown to a user: relative to the project when it lies inside, as given otherwise."""

from __future__ import annotations

from pathlib import Path


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
