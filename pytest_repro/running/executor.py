"""Where a run executes: one small interface, and local subprocesses as its one implementation.

The scheduler (`running.scheduler`) decides *when* a run starts and with how many cores;
an `Executor` decides *where*.  It is given a `Launch` (what to train, into which
folder, with which environment) and returns a `RunHandle` the scheduler polls, waits
for and cancels.  Nothing above the scheduler (the checks, the variation hunt, the
session) sees a process.

`LocalExecutor` starts each run as a subprocess of this interpreter
(`launcher.RunningTraining`).  A cluster engine (Ray, Dask) would be a second
implementation of the same two methods: its `start` would ship the `Launch` to a
worker machine (the request, the output folder on storage both machines see, the
environment), and its handle would answer `exited`, `wait` (the run's `RunRecord`,
read back from that storage), `cancel`, and relay the run's output lines to `sink`;
the twins could then train on two machines without any check changing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.running.launcher import ProgressSink, RunningTraining


@dataclass(frozen=True)
class Launch:
    """One run to start: the request, its output folder and label, its full environment and place."""

    request: RunRequest
    output_dir: Path
    label: str
    env: Mapping[str, str]
    cwd: Path
    sink: ProgressSink | None = None
    umask: int | None = None  # the `umask` variation
    cpus: frozenset[int] | None = None  # the `cpus` variation: the CPUs the run is born on


class RunHandle(Protocol):
    """A started run, as the scheduler sees it."""

    label: str
    finished_at: float | None  # when its output ended (the run exited), on this process's perf_counter

    def exited(self) -> bool:
        """Whether the run has ended (then `wait` returns at once)."""

    def overdue(self) -> bool:
        """Whether the run has outlived its timeout (`wait` then stops it and says so)."""

    def say_if_quiet(self) -> None:
        """Name the run once through its sink when it has printed nothing for a long time."""

    def wait(self) -> RunRecord:
        """Wait for the run; its record, or `TrainingFailed` / `ContractError`."""

    def cancel(self) -> None:
        """Stop the run and everything it started; a no-op when it has ended."""


class Executor(Protocol):
    """Starts runs somewhere: here, in subprocesses (`LocalExecutor`), or on other machines."""

    def start(self, launch: Launch) -> RunHandle:
        """Start `launch` now, without waiting; an `OSError` when it cannot start."""


class LocalExecutor:
    """Each run is a fresh subprocess of this interpreter, in its own process group."""

    def start(self, launch: Launch) -> RunHandle:
        return RunningTraining(
            launch.request,
            launch.output_dir,
            launch.label,
            dict(launch.env),
            launch.sink,
            launch.cwd,
            umask=launch.umask,
            cpus=launch.cpus,
        )
