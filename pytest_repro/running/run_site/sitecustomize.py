"""Start-up of every Python process of a pytest-repro run: the write guard, the recorder, then the user's sitecustomize.

The `dir_order` variation's reversed listings are installed here too, when asked.

This folder is first on a run's PYTHONPATH, so Python imports this module at start-up
(`site`).  It holds nothing else a training could import by accident: its two helpers
have names no project uses.  Standard library only.
"""

import importlib
import os
import sys

import _pytest_repro_dir_order
import _pytest_repro_guard
import _pytest_repro_recorder


def _chain_user_sitecustomize():
    """Import the next `sitecustomize` on sys.path (the user's own), as if this one were not here."""
    here = os.path.dirname(os.path.abspath(__file__))
    own = sys.modules.pop(__name__, None)
    saved = list(sys.path)
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    try:
        importlib.import_module("sitecustomize")
    except ImportError:
        pass
    finally:
        sys.path[:] = saved
        if own is not None:
            sys.modules.setdefault(__name__, own)


if __name__ == "sitecustomize":
    _pytest_repro_guard.install_from_environment()
    _pytest_repro_recorder.install_from_environment()
    _pytest_repro_dir_order.install_from_environment()
    _chain_user_sitecustomize()
