"""A fresh copy of a project's tree for one run, as reproducible-builds tools rebuild in a fresh tree.

A script that writes `models/model.pkl` and reads `data/train.csv` by paths relative to
its working directory runs in its own copy, so the twins neither collide nor touch
the user's files.  What is copied, and what is not:

- files git tracks, and untracked files git does not ignore, are copied;
- what git ignores (a `data/` folder kept out of git, say) is linked, not copied, so
  large data costs nothing and the run reads it where it is; an ignored folder that
  an output glob writes into is not linked, so outputs never land in the user's tree;
- `.git`, virtual environments, caches and build folders are skipped;
- files matching the run's output globs are never carried over, so a stale model from
  an earlier run by hand cannot pass for this run's output.

Without git (or outside a repository) every file is copied, less the skipped folders.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        ".ipynb_checkpoints",
        "node_modules",
        ".venv",
        "venv",
        ".eggs",
        "build",
        "dist",
    }
)


def copy_tree(source: Path, destination: Path, *, exclude: Iterable[str] = ()) -> int:
    """Copy the project at `source` into the new folder `destination`; return how many files it holds.

    `exclude` holds globs (relative POSIX paths, `**` allowed) of files left out: the
    run's outputs.
    """
    source = source.resolve()
    patterns = tuple(exclude)
    destination.mkdir(parents=True, exist_ok=False)
    barrier = _barrier(source, destination.resolve())
    count = 0
    listed = _git_files(source)
    # Without git, a linked folder (as a copy made here links git-ignored data) is linked again.
    files = listed if listed is not None else ((path, path.endswith("/")) for path in _walk(source))
    for relative, ignored in files:
        origin = source / relative.rstrip("/")
        if (
            _skipped(relative)
            or matches_any(relative, patterns)
            or _into_itself(origin, destination, barrier)
        ):
            continue
        if origin.is_symlink() and origin.is_dir():  # a linked folder stays a link
            relative, ignored = relative.rstrip("/") + "/", True
        if relative.endswith("/"):  # an ignored folder, listed whole
            if _holds_outputs(relative, patterns) or (origin / "pyvenv.cfg").is_file():
                continue
        elif not origin.is_file():
            continue
        target = destination / relative.rstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if ignored:
            target.symlink_to(origin.resolve(), target_is_directory=origin.is_dir())
        else:
            shutil.copy2(origin, target)
        count += 1
    return count


def _barrier(source: Path, destination: Path) -> Path | None:
    """The top folder of `source` that holds `destination`, when the copy is made inside the project.

    pytest's temporary folder may lie in the project (`--basetemp=tmp`, pytester): the
    run folders, this copy among them, must not be copied into it, or every copy would
    hold the ones before it.
    """
    if destination == source or not destination.is_relative_to(source):
        return None
    return source / destination.relative_to(source).parts[0]


def _into_itself(origin: Path, destination: Path, barrier: Path | None) -> bool:
    """Whether copying or linking `origin` would put the copy (or a link to it) inside itself."""
    if barrier is not None and origin.is_relative_to(barrier):
        return True
    try:
        resolved = origin.resolve()
    except (OSError, RuntimeError):  # a link loop
        return True
    target = destination.resolve()
    return target.is_relative_to(resolved) or (barrier is not None and resolved.is_relative_to(barrier))


def _holds_outputs(folder: str, patterns: Iterable[str]) -> bool:
    """Whether an output glob could name a file inside `folder` (e.g. `models/` for `models/*.pkl`)."""
    return any(
        pattern.startswith(folder) or fnmatch.fnmatchcase(folder, pattern.split("/")[0] + "/")
        for pattern in patterns
    )


def matches_any(relative: str, patterns: Iterable[str]) -> bool:
    """Whether the POSIX path `relative` matches one of the globs (`**` spans folders)."""
    return any(_match(relative, pattern) for pattern in patterns)


def _match(relative: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    # "models/**/*.pkl" should also match "models/a.pkl": let `**/` match nothing.
    return "**/" in pattern and fnmatch.fnmatchcase(relative, pattern.replace("**/", ""))


def _skipped(relative: str) -> bool:
    parts = relative.rstrip("/").split("/")
    folders = parts if relative.endswith("/") else parts[:-1]
    return any(part in SKIPPED_FOLDERS or part.endswith(".egg-info") for part in folders)


def _git_files(root: Path) -> list[tuple[str, bool]] | None:
    """Every file under `root` as (relative path, ignored by git), or None when git cannot tell."""
    listing = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listing is None:
        return None
    # --directory lists a wholly ignored folder once ("data/"), not each file in it.
    ignored = _git(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
    kept = [(name, False) for name in listing.split("\0") if name]
    return kept + [(name, True) for name in (ignored or "").split("\0") if name]


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _walk(root: Path) -> Iterator[str]:
    """Every file under `root`, and every symbolic link to a folder as `name/` (not descended into)."""
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        kept = []
        for name in sorted(subfolders):
            if (
                name in SKIPPED_FOLDERS
                or name.endswith(".egg-info")
                or (here / name / "pyvenv.cfg").is_file()
            ):
                continue
            if (here / name).is_symlink():
                yield (here / name).relative_to(root).as_posix() + "/"
            else:
                kept.append(name)
        subfolders[:] = kept
        for name in sorted(names):
            yield (here / name).relative_to(root).as_posix()
