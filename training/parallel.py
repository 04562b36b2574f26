"""Run independent tasks in worker processes and hand back their results in the tasks' order.

Cross-validation fits one clone per (model, fold) pair, and no pair needs another's
result, so they can run side by side.  Three rules keep the output byte-identical
whatever the worker count:

- every task runs the same function, in this process for one worker and in loky
  worker processes otherwise, so there is no second code path to drift apart;
- each worker runs BLAS and OpenMP with one thread (their sums depend on the thread
  count; see `training.run._single_threaded`), capped both in the environment the
  workers start with and again around each task;
- results come back in the order the tasks were given, never in the order they finish
  or were started in (the longest tasks start first, so that the workers finish
  together).

How many workers: `--jobs N` on the command line, else `REPRO_WORKERS` (a harness such
as pytest-repro sets it to the share of the cores it gives a run), else every core this
process may run on.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from pytest_repro.contract import THREAD_VARIABLES, WORKERS_VARIABLE, available_cores
from pytest_repro.errors import ConfigError, Problem

T = TypeVar("T")
R = TypeVar("R")
ALLOWED = "a positive integer"
# Set in the workers' environment before they import anything, as joblib does for its
# loky workers: BLAS and OpenMP read these once, when they load.
ONE_THREAD = dict.fromkeys(THREAD_VARIABLES, "1")
# Idle workers exit after this long: one training's fits reuse them, nothing else does.
IDLE_WORKER_SECONDS = 10
# How often a worker checks that the training that started it is still alive.
PARENT_POLL_SECONDS = 1.0
# What every worker imports as it starts: the fitting code, and scikit-learn with it.
PRELOADED = "training.evaluation"
# The warnings loky's resource tracker gives when it cleans up after a killed training.
WARNINGS_VARIABLE = "PYTHONWARNINGS"
QUIET_TRACKER = "ignore::UserWarning:joblib.externals.loky.backend.resource_tracker"


def worker_count(requested: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Return the workers to use: `requested` (--jobs) when given, else REPRO_WORKERS, else the cores."""
    if requested is not None:
        if requested < 1:
            raise ConfigError([Problem("<command line>", "--jobs", f"got {requested}; expected {ALLOWED}")])
        return requested
    text = (os.environ if environ is None else environ).get(WORKERS_VARIABLE, "").strip()
    if not text:
        return available_cores()
    try:
        value = int(text, 10)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError([Problem("<environment>", WORKERS_VARIABLE, f"got {text!r}; expected {ALLOWED}")])
    return value


def run_tasks(
    function: Callable[[T], R],
    tasks: Sequence[T],
    workers: int,
    *,
    group: Callable[[T], Hashable] | None = None,
    on_result: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Return `function(task)` for each task, in the tasks' order, computed by `workers` processes.

    One worker (or one task) runs the tasks in this process, in their order.  More
    start loky workers (reused across calls), each told to keep BLAS/OpenMP at one
    thread before it imports anything, and keep one task in flight per worker, chosen
    by `CostFirst` from the tasks' `group` (tasks of a group cost about the same), so
    the longest tasks do not end up running alone at the end.  `on_result(index,
    result)` is called as each task finishes, in the order they finish: for progress,
    never for results.
    """
    workers = max(1, min(workers, len(tasks)))
    results: dict[int, R] = {}
    if workers == 1:
        for index, task in enumerate(tasks):
            results[index] = single_threaded_call(function, task)
            if on_result is not None:
                on_result(index, results[index])
        return [results[index] for index in range(len(tasks))]
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    groups = [group(task) if group is not None else index for index, task in enumerate(tasks)]
    order = CostFirst(groups)
    executor = _executor(workers)
    in_flight: dict[Future[tuple[float, R]], int] = {}
    try:
        while order.pending or in_flight:
            while order.pending and len(in_flight) < workers:
                index = order.take(time.perf_counter())
                in_flight[executor.submit(timed_call, function, tasks[index])] = index
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=in_flight.__getitem__):
                index = in_flight.pop(future)
                seconds, results[index] = future.result()
                order.finished(index, seconds)
                if on_result is not None:
                    on_result(index, results[index])
    except BaseException:
        for future in in_flight:
            future.cancel()
        # Stop what is still running: nobody will read it, and a worker must not outlive a failed training.
        executor.shutdown(wait=False, kill_workers=True)
        raise
    return [results[index] for index in range(len(tasks))]


def start_workers(workers: int) -> None:
    """Start the worker processes now, each importing the fitting code, without waiting for them.

    Called once the dataset's bytes are read and checked against their pin, before they
    are parsed, so that the workers' imports overlap the caller's own instead of delaying
    the first fit (and a wrong dataset still fails before any worker starts).  One worker
    needs no processes.
    """
    if workers > 1:
        _executor(workers).submit(int)  # the first task is what spawns the workers


def _executor(workers: int) -> Any:
    """The loky executor of `workers` processes, reused while its arguments stay the same."""
    from joblib.externals.loky import get_reusable_executor

    with _quiet_resource_tracker():  # the executor's first semaphores start loky's resource tracker
        return get_reusable_executor(
            max_workers=workers,
            timeout=IDLE_WORKER_SECONDS,
            env=ONE_THREAD,
            initializer=worker_start,
            initargs=(os.getpid(), PRELOADED),
        )


@contextlib.contextmanager
def _quiet_resource_tracker() -> Iterator[None]:
    """Start loky's resource tracker, if it starts here, with its leak warnings turned off.

    The tracker is a process of its own that outlives a training killed outright
    (SIGKILL), then removes the semaphores the training left and warns, on the terminal
    the training shared, that they leaked: two lines of noise after whatever the next
    command prints (a second training's one-line refusal, say).  Removing them is the
    tracker's job and what a kill implies, so its warnings say nothing to act on.  It
    takes its warning filters from the environment it starts with, the only setting
    loky passes on, so the filter is added to `PYTHONWARNINGS` while it may start.
    """
    previous = os.environ.get(WARNINGS_VARIABLE)
    os.environ[WARNINGS_VARIABLE] = ",".join(filter(None, [previous, QUIET_TRACKER]))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(WARNINGS_VARIABLE, None)
        else:
            os.environ[WARNINGS_VARIABLE] = previous


def worker_start(parent: int, module: str) -> None:
    """In each worker as it starts: import `module`, and exit as soon as `parent` is gone.

    A training killed outright (SIGKILL) cannot tell its workers to stop; loky's
    workers, reparented, would otherwise wait forever for work that never comes.
    """
    importlib.import_module(module)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


class CostFirst:
    """The order tasks are started in: a first task of each group, then the costliest groups first.

    A group's cost is the mean time its finished tasks took; a group whose first task
    is still running costs at least as long as it has been running.  Ties go to the
    earlier task.  Starting the long tasks early and the short ones last keeps every
    worker busy until the end (longest processing time first); which worker ran
    which task never changes a result.
    """

    def __init__(self, groups: Sequence[Hashable]):
        self.groups = list(groups)
        self.pending = list(range(len(self.groups)))
        self._started: dict[int, float] = {}  # running tasks: when each started
        self._begun: set[Hashable] = set()
        self._seconds: dict[Hashable, list[float]] = {}

    def take(self, now: float) -> int:
        """Pick the next task to start at time `now`, and mark it started."""
        fresh = [index for index in self.pending if self.groups[index] not in self._begun]
        index = fresh[0] if fresh else max(self.pending, key=lambda i: (self._cost(self.groups[i], now), -i))
        self.pending.remove(index)
        self._started[index] = now
        self._begun.add(self.groups[index])
        return index

    def finished(self, index: int, seconds: float) -> None:
        """Record how long a started task took."""
        self._seconds.setdefault(self.groups[index], []).append(seconds)
        self._started.pop(index, None)

    def _cost(self, group: Hashable, now: float) -> float:
        seconds = self._seconds.get(group)
        if seconds:
            return sum(seconds) / len(seconds)
        running = [now - at for index, at in self._started.items() if self.groups[index] == group]
        return max(running, default=0.0)


def timed_call(function: Callable[[T], R], task: T) -> tuple[float, R]:
    """`single_threaded_call`, and the seconds it took, timed where it runs (imports excluded)."""
    started = time.perf_counter()
    result = single_threaded_call(function, task)
    return time.perf_counter() - started, result


def single_threaded_call(function: Callable[[T], R], task: T) -> R:
    """Call `function(task)` with BLAS and OpenMP limited to one thread, in whichever process runs it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return function(task)
