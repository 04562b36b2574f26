"""A fresh copy of a project's tree for one run, which no write of the run can carry back.

A script that writes `models/model.pkl` and reads `data/train.csv` by paths relative to
its working directory runs in its own copy, so the twins neither collide nor touch
the user's files.  What the copy holds (the README's "How runs are isolated"):

- files git tracks, untracked files it does not ignore, and git-ignored files (an MLflow
  store in `mlruns/`, `data/`, a DVC cache) are **copied**; every folder is kept, empty
  if need be, so a training that runs in a fresh clone runs in the copy;
- a git-ignored file of at least `SHARE_MIN_BYTES` is **shared** instead, so large data
  costs little: by a reflink (a copy-on-write clone, where the file system has them),
  else by a hard link, else copied.  A hard-linked file is the user's own file: the run's
  write guard refuses writes to it, and `ProjectCopy.changed` finds a write that got past
  the guard (a native library's) after the run;
- symbolic links stay links: one into the project keeps its relative target (an absolute
  one is made relative), one out of the project points where it pointed;
- the copy is a git repository at the user's HEAD (a local clone with no remote, its index
  at HEAD, the user's uncommitted changes in its files), so DVC, setuptools-scm and
  `git describe` work in it and git in the copy never reaches the user's repository;
- `.git` itself, virtual environments, caches and build folders are not copied;
- files matching the run's output globs are never carried over (their folder stays), so a
  stale model from an earlier run by hand cannot pass for this run's output.

Without git (or outside a repository) every file is copied, less the skipped folders.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pytest_repro.core.paths import matches_any

# Git-ignored files this large are shared rather than copied (ini `repro_copy` copies any).
SHARE_MIN_BYTES = 8 * 1024 * 1024
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
_FICLONE = 0x40049409  # Linux's ioctl for a reflink: a copy-on-write clone of a whole file


@dataclass(frozen=True)
class SharedFile:
    """A git-ignored file of the copy that is the user's own file (a hard link), and its state before."""

    relative: str
    origin: Path
    stamp: tuple[int, int, int, int]  # inode, size, mtime_ns, mode: what a write or chmod changes


@dataclass(frozen=True)
class ProjectCopy:
    """A run's copy of the project: where it is, how many files it holds, and which it shares."""

    source: Path
    root: Path
    files: int
    shared: tuple[SharedFile, ...]
    git: bool
    noted: tuple[str, ...] = ()  # copied files whose names end as `copy_tree(note=...)` asked

    def shared_inodes(self) -> list[list[int]]:
        """(device, inode) of every shared file, for the run's write guard."""
        found = []
        for item in self.shared:
            with contextlib.suppress(OSError):
                status = (self.root / item.relative).stat()
                found.append([status.st_dev, status.st_ino])
        return found

    def changed(self) -> list[str]:
        """The shared files whose original the run changed (content, size or mode), by relative path."""
        return [item.relative for item in self.shared if _stamp(item.origin) != item.stamp]


def copy_tree(
    source: Path,
    destination: Path,
    *,
    exclude: Iterable[str] = (),
    always_copy: Iterable[str] = (),
    share_min_bytes: int = SHARE_MIN_BYTES,
    note: tuple[str, ...] = (),
) -> ProjectCopy:
    """Copy the project at `source` into the new folder `destination` (see the module's docstring).

    `exclude` holds globs (relative POSIX paths, `**` allowed) of files left out: the
    run's outputs.  `always_copy` holds globs of git-ignored files copied whatever their
    size (ini `repro_copy`).  Copied files whose names end with one of `note` are listed
    in `ProjectCopy.noted` (the caller's fix-ups: MLflow stores).
    """
    source = source.resolve()
    destination.mkdir(parents=True, exist_ok=False)
    destination = destination.resolve()
    copier = _Copier(
        source,
        destination,
        tuple(exclude),
        tuple(always_copy),
        share_min_bytes,
        barrier(source, destination),
    )
    copier.note = note
    listed = _git_files(source)
    if listed is None:  # no git to ask: every file is the project's
        copier.add_folder("", ignored=False)
    for relative, ignored in listed or ():
        copier.add(relative, ignored)
    git = listed is not None and _clone_repository(source, destination)
    return ProjectCopy(source, destination, copier.count, tuple(copier.shared), git, tuple(copier.noted))


class _Copier:
    """Puts each listed path of the project into the copy: copied, shared, linked or left out."""

    def __init__(
        self,
        source: Path,
        destination: Path,
        exclude: tuple[str, ...],
        always_copy: tuple[str, ...],
        share_min_bytes: int,
        barrier: Path | None,
    ):
        self.source = source
        self.destination = destination
        self.exclude = exclude
        self.always_copy = always_copy
        self.share_min_bytes = share_min_bytes
        self.barrier = barrier
        self.count = 0
        self.shared: list[SharedFile] = []
        self.note: tuple[str, ...] = ()
        self.noted: list[str] = []

    def add(self, relative: str, ignored: bool) -> None:
        name = relative.rstrip("/")
        origin = self.source / name
        if never_copied(relative) or self._into_itself(origin):
            return
        if matches_any(name, self.exclude):
            (self.destination / name).parent.mkdir(parents=True, exist_ok=True)  # the folder stays
            return
        if origin.is_symlink():
            self._link(name, origin)
        elif origin.is_dir():  # an ignored folder listed whole, or a submodule's checkout
            if not (origin / "pyvenv.cfg").is_file():
                self.add_folder(name, ignored)
        elif origin.is_file():  # regular files only: a FIFO or a socket is not data
            self._file(name, origin, ignored)

    def add_folder(self, name: str, ignored: bool) -> None:
        """Add a folder and everything in it (kept even when empty)."""
        (self.destination / name).mkdir(parents=True, exist_ok=True)
        for entry in sorted(os.scandir(self.source / name), key=lambda e: e.name):
            relative = f"{name}/{entry.name}" if name else entry.name
            if entry.name == ".git":
                continue  # a submodule's link to its repository, which stays with the user
            self.add(relative + "/" if entry.is_dir(follow_symlinks=False) else relative, ignored)

    def _file(self, name: str, origin: Path, ignored: bool) -> None:
        target = self.destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        self.count += 1
        if (
            ignored
            and origin.stat().st_size >= self.share_min_bytes
            and not matches_any(name, self.always_copy)
        ):
            if _reflink(origin, target):
                return
            with contextlib.suppress(OSError):
                os.link(origin, target)
                self.shared.append(SharedFile(name, origin, _stamp(origin)))
                return
        shutil.copy2(origin, target)
        if self.note and name.endswith(self.note):
            self.noted.append(name)

    def _link(self, name: str, origin: Path) -> None:
        """Recreate a symbolic link: relative inside the project, as it pointed outside it."""
        target = self.destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        pointed = os.readlink(origin)
        try:
            resolved = origin.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling, or a loop: kept as it was
            resolved = None
        if resolved is not None and not resolved.is_relative_to(self.source):
            pointed = str(resolved)  # outside the project: the same file from the copy's place
        elif os.path.isabs(pointed) and resolved is not None:
            pointed = os.path.relpath(self.destination / resolved.relative_to(self.source), target.parent)
        target.symlink_to(pointed)
        self.count += 1

    def _into_itself(self, origin: Path) -> bool:
        """Whether copying `origin` would put the copy (or a link to it) inside itself."""
        if self.barrier is not None and origin.is_relative_to(self.barrier):
            return True
        try:
            resolved = origin.resolve()
        except (OSError, RuntimeError):  # a link loop: recreated as it is
            return False
        return self.destination.is_relative_to(resolved) or (
            self.barrier is not None and resolved.is_relative_to(self.barrier)
        )


def _stamp(path: Path) -> tuple[int, int, int, int]:
    try:
        status = path.stat()
    except OSError:
        return (0, -1, 0, 0)
    return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_mode)


def _reflink(origin: Path, target: Path) -> bool:
    """Clone `origin` to `target` copy-on-write, where the file system can; False (and no file) elsewhere."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        return False
    try:
        with open(origin, "rb") as source, open(target, "wb") as clone:
            fcntl.ioctl(clone.fileno(), _FICLONE, source.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            target.unlink()
        return False
    shutil.copystat(origin, target)
    return True


def _clone_repository(source: Path, destination: Path) -> bool:
    """Make the copy a git repository at the user's HEAD, sharing nothing writable with the user's `.git`.

    A local clone with its own copy of the objects (hard-linked objects would be the
    user's: git refreshes an existing object's modification time when a run writes it
    again, a `git stash` say) and no remote; HEAD set to the user's branch and commit; the index reset to HEAD, so the
    copy's files show the user's uncommitted changes.  False when git cannot make it.
    """
    head = _git(source, "rev-parse", "--verify", "-q", "HEAD")
    staging = destination / ".repro-clone"
    cloned = _git(source, "clone", "-q", "--no-checkout", "--no-hardlinks", str(source), str(staging))
    if cloned is None or not (staging / ".git").is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        return False
    (staging / ".git").rename(destination / ".git")
    shutil.rmtree(staging, ignore_errors=True)
    _git(destination, "remote", "remove", "origin")
    commit = (head or "").strip()
    if commit:
        branch = (_git(source, "symbolic-ref", "-q", "HEAD") or "").strip()
        if branch and _git(destination, "update-ref", branch, commit) is not None:
            _git(destination, "symbolic-ref", "HEAD", branch)
        else:
            _git(destination, "update-ref", "--no-deref", "HEAD", commit)
        _git(destination, "reset", "-q")
    return True


def barrier(source: Path, destination: Path) -> Path | None:
    """The top folder of `source` that holds `destination`, when the copy is made inside the project.

    pytest's temporary folder may lie in the project (`--basetemp=tmp`, pytester): the
    run folders, this copy among them, must not be copied into it, or every copy would
    hold the ones before it.
    """
    if destination == source or not destination.is_relative_to(source):
        return None
    return source / destination.relative_to(source).parts[0]


def never_copied(relative: str) -> bool:
    """Whether the POSIX path `relative` lies in a folder no run's copy holds (.git, caches, environments)."""
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


def git_output(root: Path, *args: str) -> str | None:
    """What a git command in `root` printed, or None when it failed."""
    return _git(root, *args)


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            # --no-optional-locks: reading the user's repository never rewrites its index.
            ["git", "--no-optional-locks", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None
