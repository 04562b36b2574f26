"""Publish a run's artifacts all together or not at all.

Every file is first written in full to a hidden temporary file in the output folder
and fsynced.  Then a small journal naming the pending renames is written atomically,
the renames run (lineage last), and the journal is removed.  A crash before the
journal leaves the previous artifacts untouched; a crash after it is rolled forward
by `recover_interrupted_commit`, which the next training (`Publication`) and
`load_model` call first, under the folder's lock.  A check only reads: it reports a
pending journal and renames nothing.  So a reader never trusts a lineage that names
files not matching it.

The journal is data that anyone with write access to the folder can craft, so it is
validated before any rename (`read_journal`): an object holding only `renames`, a list
of [staged name, final name] pairs, each final name a plain, unreserved output name and
each staged name one this module would have made for it (`.<final>.<random>.staged`),
no name twice.  A rename can therefore only move a staging file onto the name it was
staged for, inside the folder.

A lock file keeps two trainings from publishing into one folder at once.

Testing hook: with REPRO_TEST_PAUSE_AT set to one of the points below, the process
stops itself (SIGSTOP) there, so a test can SIGKILL it at a known step of a commit
(tests/test_crash_safety.py).  Unset, it does nothing.  The points are
`staged:<file name>` (that file staged and fsynced), `before-journal`,
`after-journal` and `renamed:<file name>` (that file renamed into place).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pytest_repro.core.parsing import loads_json
from pytest_repro.core.regular_files import open_regular
from pytest_repro.errors import ArtifactError
from pytest_repro.lineage.atomic import fsync_folder, write_bytes_atomic
from pytest_repro.lineage.output_names import JOURNAL_NAME, LOCK_NAME, STAGED_SUFFIX, name_problem

__all__ = ["JOURNAL_NAME", "LOCK_NAME", "STAGED_SUFFIX", "JournalError", "StagedCommit", "read_journal"]
PAUSE_ENV = "REPRO_TEST_PAUSE_AT"
# A real journal names a handful of files; anything larger is not one of ours.
MAX_JOURNAL_BYTES = 1 << 20


# What this process has committed, so that a command interrupted by Ctrl-C can say what is
# true: the folder whose journal it wrote but has not finished, and the folders it published.
_pending_commit: list[Path] = []
_published: list[Path] = []


def interrupted_commit() -> Path | None:
    """The journal this process wrote and has not finished applying (its renames were cut short), if any."""
    return _pending_commit[-1] / JOURNAL_NAME if _pending_commit else None


def published_folders() -> tuple[Path, ...]:
    """The folders this process has published a complete commit into."""
    return tuple(_published)


class JournalError(ArtifactError):
    """The output folder's commit journal is unreadable or not a journal this module writes."""


Writer = Callable[[BinaryIO], None]


def prepare_output_dir(folder: Path) -> Path:
    """Create the output folder; a file in the way is a clear error, not a traceback."""
    try:
        is_file = folder.exists() and not folder.is_dir()
    except OSError as exc:  # exists() raises for a name too long for the file system
        raise ArtifactError(f"{folder}: cannot use as the output folder ({exc.strerror})") from None
    if is_file:
        raise ArtifactError(f"{folder}: output folder is a file; choose another --output-dir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ArtifactError(f"{folder}: a file is in the way of the output folder") from None
    except PermissionError:
        raise ArtifactError(f"{folder}: permission denied creating the output folder") from None
    except NotADirectoryError:
        raise ArtifactError(f"{folder}: a parent of the output folder is a file") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArtifactError(f"{folder}: output folder is not writable")
    return folder


@contextlib.contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output folder; a second training stops at once with a clear message.

    filelock gives the same non-blocking exclusive lock on every platform (flock on
    POSIX, msvcrt on Windows), and the lock dies with the process that held it.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(folder / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ArtifactError(
            f"{folder}: another training is writing to this folder (lock {LOCK_NAME} is held); "
            "wait for it to finish or choose another --output-dir"
        ) from None
    except OSError as exc:  # the lock's name is taken by a folder, or the folder is read-only
        raise ArtifactError(f"{folder / LOCK_NAME}: cannot take the output lock ({exc.strerror})") from None
    try:
        yield
    finally:
        lock.release()


class StagedCommit:
    """Stage files in the output folder, then publish them together in staging order.

    Use as a context manager: files staged inside the block are renamed into place
    only when the block completes; on any exception the staged files are removed
    and the previous artifacts stay as they were.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._staged: list[tuple[str, str]] = []

    def stage(self, name: str, writer: Writer) -> Path:
        """Write `name` in full to a hidden file and fsync it; return the staged path.

        A file system that refuses (a full disk, a read-only folder) is one ArtifactError;
        the block's exit then removes what was staged, and nothing is published.
        """
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=STAGED_SUFFIX, dir=self.folder)
            self._staged.append((Path(tmp).name, name))
            with os.fdopen(fd, "wb") as handle:
                writer(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
        except OSError as exc:
            raise ArtifactError(
                f"{self.folder / name}: cannot write ({exc.strerror}); nothing was published"
            ) from None
        _pause_point(f"staged:{name}")
        return Path(tmp)

    def __enter__(self) -> StagedCommit:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            fsync_folder(self.folder)
            _pause_point("before-journal")
            journal = {"renames": [list(pair) for pair in self._staged]}
            write_bytes_atomic(self.folder / JOURNAL_NAME, json.dumps(journal, sort_keys=True).encode())
        except BaseException:
            self._discard()
            raise
        _pending_commit.append(self.folder)
        _pause_point("after-journal")
        _apply_journal(self.folder)
        _pending_commit.remove(self.folder)
        _published.append(self.folder)

    def _discard(self) -> None:
        for tmp_name, _ in self._staged:
            with contextlib.suppress(FileNotFoundError):
                (self.folder / tmp_name).unlink()


def journal_pending(folder: Path) -> bool:
    """True when `folder` holds a commit journal (of any kind: read_journal judges it)."""
    return os.path.lexists(folder / JOURNAL_NAME)


def recover_interrupted_commit(folder: Path) -> tuple[str, ...]:
    """Finish a commit whose journal was written but whose renames were cut short.

    Call it holding the folder's lock (`output_lock`).  Returns the final names of the
    files the journal published (empty when there was no journal), so that the caller
    can say what it did.  A journal that fails `read_journal` raises JournalError and
    nothing is renamed.
    """
    if not journal_pending(folder):
        return ()
    renames = read_journal(folder)
    _apply_renames(folder, renames)
    return tuple(final for _, final in renames)


def read_journal(folder: Path) -> tuple[tuple[str, str], ...]:
    """Return the journal's renames as (staged name, final name) pairs, after validating every one."""
    path = folder / JOURNAL_NAME
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise JournalError(f"{path}: commit journal is not a regular file; remove it and train again")
        if info.st_size > MAX_JOURNAL_BYTES:
            raise JournalError(f"{path}: commit journal is {info.st_size} bytes, not a journal; remove it")
        with open_regular(path) as handle:
            data = loads_json(handle.read(MAX_JOURNAL_BYTES + 1).decode("utf-8"))
    except JournalError:
        raise
    except (OSError, ValueError, RecursionError):
        raise JournalError(f"{path}: unreadable commit journal; remove it and train again") from None
    renames = _journal_shape(data, path)
    return renames


def _journal_shape(data: Any, path: Path) -> tuple[tuple[str, str], ...]:
    def bad(where: str, problem: str) -> JournalError:
        return JournalError(f"{path}: commit journal: {where}: {problem}; remove it and train again")

    if not isinstance(data, dict) or set(data) != {"renames"}:
        raise bad("top level", 'expected an object holding only "renames"')
    renames = data["renames"]
    if not isinstance(renames, list) or not renames:
        raise bad("renames", "expected a non-empty list of [staged name, final name] pairs")
    pairs: list[tuple[str, str]] = []
    for index, pair in enumerate(renames):
        where = f"renames[{index}]"
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair)):
            raise bad(where, f"expected [staged name, final name], got {_short(pair)}")
        staged, final = pair
        problem = name_problem(final)
        if problem is not None:
            raise bad(where, f"final name {_short(final)} {problem}")
        if not (staged.startswith(f".{final}.") and staged.endswith(STAGED_SUFFIX) and "/" not in staged):
            raise bad(where, f"{_short(staged)} is not a staging file of {_short(final)}")
        pairs.append((staged, final))
    for side, names in (("staged", [p[0] for p in pairs]), ("final", [p[1] for p in pairs])):
        if len(set(names)) != len(names):
            raise bad("renames", f"a {side} name appears twice")
    return tuple(pairs)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _apply_journal(folder: Path) -> None:
    _apply_renames(folder, read_journal(folder))


def _apply_renames(folder: Path, renames: tuple[tuple[str, str], ...]) -> None:
    journal_path = folder / JOURNAL_NAME
    for tmp_name, final_name in renames:
        with contextlib.suppress(FileNotFoundError):  # already renamed by an earlier recovery
            os.replace(folder / tmp_name, folder / final_name)
        _pause_point(f"renamed:{final_name}")
    fsync_folder(folder)
    with contextlib.suppress(FileNotFoundError):  # a concurrent recovery finished first
        journal_path.unlink()
    fsync_folder(folder)


def remove_stale_staging(folder: Path) -> None:
    """Delete staged files left by a run killed before its journal was written."""
    for stale in folder.glob(f".*{STAGED_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _pause_point(point: str) -> None:
    """Testing hook: stop this process here if REPRO_TEST_PAUSE_AT names `point`; otherwise nothing."""
    if os.environ.get(PAUSE_ENV) == point:
        os.kill(os.getpid(), signal.SIGSTOP)
