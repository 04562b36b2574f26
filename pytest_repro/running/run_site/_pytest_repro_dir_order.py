"""The `dir_order` variation: folders list in reverse order, as another file system may list them.

Installed at start-up in every Python process of a run (`sitecustomize` in this folder)
and directly in a function training's worker, when `REPRO_DIR_ORDER` is `reverse`.
`os.listdir` and `os.scandir` (and so glob, `Path.iterdir`, `os.walk`) return the same
entries in the opposite order: a training that reads a folder without sorting it
changes its output, as it would on another machine's file system.  Standard library only, and
the recorder beside it (`like_original`).
"""

import os

ORDER_VARIABLE = "REPRO_DIR_ORDER"


class _Listing:
    """What os.scandir returns (an iterator and a context manager), over entries already listed."""

    def __init__(self, entries):
        self._entries = iter(entries)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._entries)

    def close(self):
        self._entries = iter(())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def install(listdir=os.listdir, scandir=os.scandir):
    """Make os.listdir and os.scandir list in reverse order (once)."""
    if getattr(os.listdir, "_repro_reversed", False):
        return

    def reversed_listdir(*args, **kwargs):
        return list(reversed(listdir(*args, **kwargs)))

    def reversed_scandir(*args, **kwargs):
        with scandir(*args, **kwargs) as entries:
            return _Listing(list(entries)[::-1])

    from _pytest_repro_recorder import like_original  # this folder's; sitecustomize imported it first

    for name, function in (("listdir", reversed_listdir), ("scandir", reversed_scandir)):
        function.__name__ = name
        function.__doc__ = getattr(os, name).__doc__
        replacement = like_original(getattr(os, name), function)
        replacement._repro_reversed = True
        setattr(os, name, replacement)


def install_from_environment():
    """Reverse listings when this process belongs to a run of the `dir_order` variation."""
    if os.environ.get(ORDER_VARIABLE) == "reverse":
        install()
