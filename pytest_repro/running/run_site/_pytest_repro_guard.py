"""The write guard of a pytest-repro run: no Python process of a run may write into the user's project.

Every Python process a run starts installs it at start-up (`sitecustomize` in this
folder, which is first on the run's PYTHONPATH); a function training's worker loads it
directly.  It depends on the standard library only, since a command may start an
interpreter that has no pytest-repro installed (a DVC stage, say).

It adds an audit hook (PEP 578) that refuses, with PermissionError and before a byte
changes, every write-like operation (open for writing, truncate, chmod, chown, utime,
remove, rename, mkdir, rmdir, link, symlink) on

- a path that resolves into the user's project outside the run's own folders (an
  absolute path, a `../` climb, `$PWD` of a parent process, a link into the project), or
- a file of the run's copy that shares its inode with the user's file (a large
  git-ignored file shared by a hard link rather than copied).

Each refusal is also appended to the run's guard log, so a training that swallows the
error still fails its run with the refused path named.

Configuration: `REPRO_GUARD` names a JSON file {"protected": [paths], "allowed": [paths],
"shared": [[device, inode], ...], "log": path, "copy": path}: the user's project (and
the project the run copies, when a variation moved it), the run's own folders inside it (when pytest's temporary folder lies there), the shared
files, the guard log and the run's copy (to show shared files by their project path).
"""

import errno
import json
import os
import sys
import threading

GUARD_VARIABLE = "REPRO_GUARD"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# event name -> (positions of its path arguments, positions of its dir_fd arguments), as
# listed in Python's audit events table.
_PATH_EVENTS = {
    "os.remove": ((0,), (1,)),
    "os.rmdir": ((0,), (1,)),
    "os.mkdir": ((0,), (2,)),
    "os.rename": ((0, 1), (2, 3)),
    "os.chmod": ((0,), (2,)),
    "os.chown": ((0,), (3,)),
    "os.truncate": ((0,), ()),
    "os.utime": ((0,), (3,)),
    "os.link": ((1,), (2, 3)),
    "os.symlink": ((1,), (2,)),
    "shutil.rmtree": ((0,), (1,)),
}
# Operations on a shared file that change the user's copy of it (a rename or remove only
# changes the run's own directory entry).
_CHANGES_CONTENT = frozenset({"open", "os.chmod", "os.chown", "os.truncate", "os.utime"})


class _Guard:
    def __init__(self, settings):
        self.protected = tuple(os.path.realpath(path) for path in settings["protected"])
        self.allowed = tuple(os.path.realpath(path) for path in settings.get("allowed", ()))
        self.shared = {tuple(pair) for pair in settings.get("shared", ())}
        self.log = settings.get("log")
        self.copy = os.path.realpath(settings["copy"]) if settings.get("copy") else None
        self._busy = threading.local()

    def __call__(self, event, args):
        if event != "open" and event not in _PATH_EVENTS:
            return
        if getattr(self._busy, "on", False):
            return
        self._busy.on = True
        try:
            problem = self._problem(event, args)
        finally:
            self._busy.on = False
        if problem is not None:
            self._note(problem)
            raise PermissionError(errno.EACCES, problem)

    def _problem(self, event, args):
        if event == "open":
            path, mode, flags = (*tuple(args), None, None, None)[:3]
            if not _writes(mode, flags):
                return None
            paths = (path,)
        else:
            positions, dir_fds = _PATH_EVENTS[event]
            relative_to_fd = any(i < len(args) and isinstance(args[i], int) for i in dir_fds)
            paths = tuple(args[i] for i in positions if i < len(args))
            if relative_to_fd:  # a path relative to a folder descriptor cannot be resolved here
                paths = tuple(path for path in paths if _is_absolute(path))
        for path in paths:
            problem = self._check(event, path, args)
            if problem is not None:
                return problem
        return None

    def _check(self, event, path, args):
        if isinstance(path, int) or path is None:
            return None
        try:
            text = os.fsdecode(os.fspath(path))
            real = os.path.realpath(text)
        except (TypeError, ValueError, OSError):
            return None
        if any(_inside(real, folder) for folder in self.protected) and not any(
            _inside(real, folder) for folder in self.allowed
        ):
            return (
                f"pytest-repro: a run may not write into your project: {event} {real} "
                "(each run trains in its own copy; write by a path relative to its working directory)"
            )
        if self.shared and event in _CHANGES_CONTENT:
            try:
                status = os.stat(text)
            except OSError:
                return None
            if (status.st_dev, status.st_ino) in self.shared:
                if event == "os.chmod" and len(args) > 1 and status.st_mode & 0o7777 == args[1]:
                    return None
                shown = os.path.relpath(real, self.copy) if self.copy and _inside(real, self.copy) else real
                return (
                    f"pytest-repro: {shown} is shared with your project, not copied (a large git-ignored "
                    "file): list it in repro_outputs if the training writes it, or in repro_copy to copy it"
                )
        return None

    def _note(self, problem):
        if not self.log:
            return
        try:
            with open(self.log, "a", encoding="utf-8") as log:
                log.write(problem.replace("\n", " ") + "\n")
        except OSError:
            pass


def _writes(mode, flags):
    if isinstance(flags, int) and flags & _WRITE_FLAGS:
        return True
    return isinstance(mode, str) and any(letter in mode for letter in "wax+")


def _is_absolute(path):
    try:
        return os.path.isabs(os.fspath(path))
    except TypeError:
        return False


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def install(settings):
    """Add the guard to this process (once); `settings` as in the module's docstring."""
    if getattr(sys, "_repro_guard", None) is not None:
        return
    guard = _Guard(settings)
    sys._repro_guard = guard
    sys.addaudithook(guard)


def install_from_environment():
    """Install the guard the run's settings file describes, when this process belongs to a run."""
    path = os.environ.get(GUARD_VARIABLE)
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as handle:
            settings = json.load(handle)
    except (OSError, ValueError):
        return
    install(settings)
