"""A run's worker ends, with everything it started, as soon as the session that started it is gone.

The launcher starts each run in its own session (`start_new_session`), so that a timeout
can stop the run's whole process group.  The same separation means that nothing stops
the run when pytest itself dies: a SIGKILL or a SIGTERM of pytest runs none of its
clean-up, and the worker and a command training's script would otherwise train on,
unseen, until killed by hand.  So the launcher names itself in the worker's environment,
and the worker watches it from a thread: once its parent is another process, the session has
ended, and the worker kills its own process group, itself and the command's processes
with it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Mapping

# Set by the launcher in a worker's environment: the pid of the process that started it.
PARENT_VARIABLE = "REPRO_PARENT_PID"
# How often a worker checks that the session that started it is still there.
PARENT_POLL_SECONDS = 1.0


def naming_parent(env: Mapping[str, str]) -> dict[str, str]:
    """`env`, plus this process's pid for the worker it is given to (see `end_with_parent`)."""
    return {**env, PARENT_VARIABLE: str(os.getpid())}


def end_with_parent() -> None:
    """In a worker: from now on, end this process group as soon as the session that started it is gone.

    The parent is the pid the launcher put in the environment, not `os.getppid()`
    now: pytest may have died while this interpreter was starting, and the worker would
    then watch whoever adopted it.  The variable is removed, so the training never sees
    it.  A worker started by hand (no variable) watches the parent it has.
    """
    named = os.environ.pop(PARENT_VARIABLE, "")
    parent = int(named) if named.isdigit() else os.getppid()
    threading.Thread(
        target=_end_when_orphaned, args=(parent,), name="repro-parent-watch", daemon=True
    ).start()


def _end_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    # Only a group this worker leads (the launcher's start_new_session) is ended whole:
    # a worker started by hand shares its shell's group, and must end alone.
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)
