"""The session's one queue of trainings: batches run one after another, each sharing every core.

A batch is the runs that must start together: the twins (two runs), or a probe's one
run (the seed-sensitivity retrain).  The rules, documented in the README:

- **Order.** Batches run first come, first served, and the session submits the twins
  first (at session start, when it will run them), so the twin verdict never waits on a
  probe: a probe's run starts the moment the twins have finished.
- **Concurrency.** A batch's runs get `core_share(len(batch))` cores each: that many
  BLAS/OpenMP threads and `REPRO_WORKERS` worker processes, so a running batch fills
  the cores and never oversubscribes them (the twins, 1 each on two cores; a probe's
  single run, both).  Twins always start together, even on one core.

The scheduler lives in one pytest process.  Under pytest-xdist each worker has its own,
and the on-disk cache (`shared_cache`) makes sure only one of them trains the twins.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from pytest_repro.core.core_count import available_cores
from pytest_repro.core.entry_points import ContractError
from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.running.launcher import ProgressSink, RunningTraining, TrainingFailed, start_runs, wait_runs


def core_share(runs: int, cores: int | None = None) -> int:
    """The cores each of `runs` concurrent runs gets: an equal share, at least one."""
    return max(1, (cores or available_cores()) // max(1, runs))


class Batch:
    """Runs of one request that start together; `wait()` returns their records by label.

    A batch that is still queued starts when every batch before it has finished; its
    `seconds` are measured from its own start, not from when it was queued.
    """

    def __init__(
        self,
        scheduler: TrainingScheduler,
        request: RunRequest,
        runs: Mapping[str, Path],
        env_overrides: Mapping[str, Mapping[str, str]] | None,
        cwd: Path,
    ):
        self.scheduler = scheduler
        self.request = request
        self.runs = dict(runs)
        self.env_overrides = env_overrides
        self.cwd = cwd
        self.started_at: float | None = None
        self.seconds: float | None = None
        self._running: list[RunningTraining] | None = None
        self._outcome: dict[str, RunRecord] | TrainingFailed | ContractError | None = None

    @property
    def done(self) -> bool:
        return self._outcome is not None

    @property
    def exited(self) -> bool:
        """Whether every run has started and its process has exited (`wait()` returns at once)."""
        return self._running is not None and all(r.process.poll() is not None for r in self._running)

    def start(self) -> None:
        """Start the runs now, each with its share of the cores."""
        if self._running is not None or self.done:
            return
        share = core_share(len(self.runs), self.scheduler.cores)
        self.started_at = time.perf_counter()
        try:
            self._running = start_runs(
                self.request,
                self.runs,
                share,
                sink=self.scheduler.sink,
                cwd=self.cwd,
                env_overrides=self.env_overrides,
            )
        except (TrainingFailed, ContractError) as exc:
            self._finish(exc)

    def wait(self) -> dict[str, RunRecord]:
        """Wait for the batches before this one, then for this one's runs; raise its failure if any."""
        self.scheduler._run_until(self)
        if isinstance(self._outcome, Exception):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome

    def cancel(self) -> None:
        """Stop the runs (or never start them): nobody will ask for this batch."""
        if self._running is not None:
            for running in self._running:
                running.kill()
        if not self.done:
            self._outcome = TrainingFailed("batch", "cancelled: no selected test needs this training", "")
        self.scheduler._forget(self)

    def _collect(self) -> None:
        assert self._running is not None
        try:
            outcome: dict[str, RunRecord] | TrainingFailed | ContractError = wait_runs(self._running)
        except (TrainingFailed, ContractError) as exc:
            outcome = exc
        # From the start to the last run's exit, however long after that the batch was read.
        ends = [running.finished_at for running in self._running]
        self._finish(outcome, max(ends) if None not in ends else None)  # type: ignore[type-var]

    def _finish(
        self, outcome: dict[str, RunRecord] | TrainingFailed | ContractError, ended: float | None = None
    ) -> None:
        self._outcome = outcome
        now = time.perf_counter()
        self.seconds = (ended or now) - (self.started_at or now)
        self.scheduler._forget(self)


class TrainingScheduler:
    """The queue of a session's batches: one running at a time, in the order submitted."""

    def __init__(self, sink: ProgressSink | None = None, cores: int | None = None):
        self.sink = sink
        self.cores = cores or available_cores()
        self._queue: list[Batch] = []

    def submit(
        self,
        request: RunRequest,
        runs: Mapping[str, Path],
        *,
        env_overrides: Mapping[str, Mapping[str, str]] | None = None,
        cwd: Path | None = None,
    ) -> Batch:
        """Queue a batch; it starts at once when nothing else is running."""
        batch = Batch(self, request, runs, env_overrides, cwd or Path.cwd())
        self._queue.append(batch)
        if self._queue[0] is batch:
            batch.start()
        return batch

    @property
    def pending(self) -> tuple[Batch, ...]:
        """The batches not yet finished, the running one first."""
        return tuple(self._queue)

    def _run_until(self, batch: Batch) -> None:
        """Finish the batches in order up to and including `batch`, starting each as its turn comes."""
        while not batch.done:
            head = self._queue[0]
            head.start()
            if not head.done:
                head._collect()

    def _forget(self, batch: Batch) -> None:
        """Drop a finished or cancelled batch and start the next one straight away."""
        if batch in self._queue:
            was_head = self._queue[0] is batch
            self._queue.remove(batch)
            if was_head and self._queue:
                self._queue[0].start()

    def shutdown(self) -> None:
        """Stop every run still going (end of session: nothing will read them)."""
        for batch in list(self._queue):
            batch.cancel()
