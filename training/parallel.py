"""Run independent tasks in worker processes and hand back their results in the tasks' order.

Cross-validation fits one clone per (model, fold) pair, and no pair needs another's
result, so they can run side by side.  Three rules keep the output byte-identical
whatever the worker count:

- every task runs the same function, in this process for one worker and in loky
  worker processes otherwise, so there is no second code path to drift apart;
- each worker runs BLAS and OpenMP with one thread (their sums depend on the thread
  count; see `training.run._single_threaded`), capped both in the environment the
  workers start with and again around each task;
- results come back in the order the tasks were given, never in the order they finish.

How many workers: `--jobs N` on the command line, else `REPRO_WORKERS` (a harness such
as pytest-repro sets it to the share of the cores it gives a run), else every core this
process may run on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from pytest_repro.contract import WORKERS_VARIABLE, available_cores
from pytest_repro.errors import ConfigError, Problem

T = TypeVar("T")
R = TypeVar("R")
ALLOWED = "a positive integer"


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


def run_in_order(function: Callable[[T], R], tasks: Sequence[T], workers: int) -> Iterator[R]:
    """Yield `function(task)` for each task, in the tasks' order, computed by `workers` processes.

    One worker (or one task) runs in this process.  More start loky workers (reused
    across calls), each told to keep BLAS/OpenMP at one thread before it imports
    anything; results are yielded as soon as every earlier task has finished, so
    progress can be reported in order while later tasks still run.
    """
    workers = max(1, min(workers, len(tasks)))
    if workers == 1:
        for task in tasks:
            yield single_threaded_call(function, task)
        return
    from joblib import Parallel, delayed, parallel_config

    with parallel_config(backend="loky", inner_max_num_threads=1):
        parallel = Parallel(n_jobs=workers, batch_size=1, return_as="generator")
        yield from parallel(delayed(single_threaded_call)(function, task) for task in tasks)


def single_threaded_call(function: Callable[[T], R], task: T) -> R:
    """Call `function(task)` with BLAS and OpenMP limited to one thread, in whichever process runs it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return function(task)
