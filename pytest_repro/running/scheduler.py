"""The one queue of trainings: batches run one after another, each sharing every core.

A batch is the runs that must start together: the twins (two runs), or a probe's one
run (the seed-sensitivity retrain, a narrowing run, `repro_run`).  A pool is a batch of
independent runs started at most `limit` at a time (the variation hunt's runs).  The
rules, documented in the README:

- **Order.** Batches run first come, first served, and the session submits the twins
  first (at session start, when it will run them), so the twin verdict never waits on a
  probe: a probe's run starts the moment the twins have finished.
- **Concurrency.** A batch's runs get `core_share(len(batch))` cores each: that many
  BLAS/OpenMP threads and `REPRO_WORKERS` worker processes, so a running batch fills
  the cores and never oversubscribes them (the twins, 1 each on two cores; a probe's
  single run, both).  Twins always start together, even on one core.
- **Alongside.** One exception, `submit_alongside`: a batch that starts at once beside
  the running one, with the share it is given.  The session's seed probe does this
  where the twins get one core each (`RunService.plan_seed_probe`): three single-core
  runs on two cores end sooner than the twins followed by a two-worker probe, because a
  training's own parallelism is seldom perfect.

The scheduler lives in one process (a pytest session's `RunService`, or `repro-vary`).
Under pytest-xdist each worker has its own, and the on-disk cache (`shared_cache`)
makes sure only one of them trains the twins.  Where a run executes is the executor's
business (`running.executor`): this module never starts nor polls a process itself.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pytest_repro.core.core_count import available_cores
from pytest_repro.core.entry_points import ContractError
from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.running.executor import Executor, Launch, LocalExecutor, RunHandle
from pytest_repro.running.launcher import HASH_SEEDS, ProgressSink, TrainingFailed, subprocess_environment

RunResult = RunRecord | TrainingFailed | ContractError
# How often a pool looks at its runs while none has ended.
POOL_POLL_SECONDS = 0.02


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
        share: int | None = None,
    ):
        self.scheduler = scheduler
        self.share = share  # cores per run; by default an equal share of every core
        self.request = request
        self.runs = dict(runs)
        self.env_overrides = env_overrides
        self.cwd = cwd
        self.started_at: float | None = None
        self.seconds: float | None = None
        self._running: list[RunHandle] | None = None
        self._outcome: dict[str, RunRecord] | TrainingFailed | ContractError | None = None

    @property
    def done(self) -> bool:
        return self._outcome is not None

    @property
    def exited(self) -> bool:
        """Whether every run has started and its process has exited (`wait()` returns at once)."""
        return self._running is not None and all(running.exited() for running in self._running)

    def start(self) -> None:
        """Start the runs now, each with its share of the cores."""
        if self._running is not None or self.done:
            return
        share = self.share or core_share(len(self.runs), self.scheduler.cores)
        self.started_at = time.perf_counter()
        try:
            self._running = start_runs(
                self.request,
                self.runs,
                share,
                sink=self.scheduler.sink,
                cwd=self.cwd,
                env_overrides=self.env_overrides,
                executor=self.scheduler.executor,
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
                running.cancel()
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

    def __init__(
        self, sink: ProgressSink | None = None, cores: int | None = None, executor: Executor | None = None
    ):
        self.sink = sink
        self.cores = cores or available_cores()
        self.executor: Executor = executor or LocalExecutor()
        self._queue: list[Batch | Pool] = []

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

    def submit_alongside(
        self,
        request: RunRequest,
        runs: Mapping[str, Path],
        share: int,
        *,
        cwd: Path | None = None,
    ) -> Batch:
        """Start a batch now, beside the running one, with `share` cores per run; it is read right after it."""
        batch = Batch(self, request, runs, None, cwd or Path.cwd(), share)
        self._queue.insert(1, batch)
        batch.start()
        return batch

    def submit_pool(self, launches: Sequence[Launch], limit: int | None = None) -> Pool:
        """Queue independent runs, at most `limit` at a time (by default one per core, at least two)."""
        pool = Pool(self, launches, limit or max(2, self.cores))
        self._queue.append(pool)
        if self._queue[0] is pool:
            pool.start()
        return pool

    @property
    def pending(self) -> tuple[Batch | Pool, ...]:
        """The batches not yet finished, the running one first."""
        return tuple(self._queue)

    def _run_until(self, batch: Batch | Pool) -> None:
        """Finish the batches in order up to and including `batch`, starting each as its turn comes."""
        while not batch.done:
            head = self._queue[0]
            head.start()
            if not head.done:
                head._collect()

    def _forget(self, batch: Batch | Pool) -> None:
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


class Pool:
    """Independent runs that share a bound: at most `limit` running at a time, every failure kept by label.

    Each `Launch` carries its own full environment (the variation hunt sets the threads).
    A run that cannot start is a failure of that run, not an error; a run past its
    timeout (repro_timeout) is stopped and said so, like the twins.
    """

    def __init__(self, scheduler: TrainingScheduler, launches: Sequence[Launch], limit: int):
        self.scheduler = scheduler
        self.launches = list(launches)
        self.limit = max(1, limit)
        self._pending = list(self.launches)
        self._running: dict[str, RunHandle] = {}
        self._results: dict[str, RunResult] = {}
        self._outcome: dict[str, RunResult] | None = None

    @property
    def done(self) -> bool:
        return self._outcome is not None

    def start(self) -> None:
        """Start as many runs as the bound allows."""
        while not self.done and self._pending and len(self._running) < self.limit:
            launch = self._pending.pop(0)
            try:
                self._running[launch.label] = self.scheduler.executor.start(launch)
            except OSError as exc:
                self._results[launch.label] = TrainingFailed(launch.label, f"could not start: {exc}", "")

    def wait(self) -> dict[str, RunResult]:
        """Wait for the batches before this one, then for every run here: a record or a failure by label."""
        self.scheduler._run_until(self)
        assert self._outcome is not None
        return self._outcome

    def cancel(self) -> None:
        """Stop the runs (or never start them): nobody will ask for them."""
        for running in self._running.values():
            running.cancel()
        self._running.clear()
        if not self.done:
            self._outcome = {
                launch.label: self._results.get(launch.label)
                or TrainingFailed(launch.label, "cancelled: no selected test needs this training", "")
                for launch in self.launches
            }
        self.scheduler._forget(self)

    def _collect(self) -> None:
        try:
            while self._pending or self._running:
                self.start()
                finished = [label for label, run in self._running.items() if run.exited() or run.overdue()]
                if not finished:
                    for run in self._running.values():
                        run.say_if_quiet()
                    time.sleep(POOL_POLL_SECONDS)
                for label in finished:
                    try:
                        self._results[label] = self._running.pop(label).wait()
                    except (TrainingFailed, ContractError) as exc:
                        self._results[label] = exc
        finally:
            for run in self._running.values():
                run.cancel()
        self._outcome = {launch.label: self._results[launch.label] for launch in self.launches}
        self.scheduler._forget(self)


def start_runs(
    request: RunRequest,
    runs: Mapping[str, Path],
    share: int,
    *,
    sink: ProgressSink | None = None,
    cwd: Path | None = None,
    env_overrides: Mapping[str, Mapping[str, str]] | None = None,
    executor: Executor | None = None,
) -> list[RunHandle]:
    """Start one subprocess per label without waiting: hash seeds 1, 2, 3...; `share` cores each."""
    executor = executor or LocalExecutor()
    started: list[RunHandle] = []
    try:
        for index, (label, folder) in enumerate(runs.items()):
            hash_seed = HASH_SEEDS[index % len(HASH_SEEDS)] if index < len(HASH_SEEDS) else str(index + 1)
            env = subprocess_environment(hash_seed, share, (env_overrides or {}).get(label))
            started.append(executor.start(Launch(request, folder, label, env, cwd or Path.cwd(), sink)))
    except BaseException:
        for running in started:
            running.cancel()
        raise
    return started


def wait_runs(started: list[RunHandle]) -> dict[str, RunRecord]:
    """Wait for every run and return their records by label; the first failure is raised.

    Whatever happens, no run outlives this call: an interruption stops them all.
    """
    try:
        records = {}
        failures = []
        for running in started:
            try:
                records[running.label] = running.wait()
            except (TrainingFailed, ContractError) as exc:
                failures.append(exc)
        if failures:
            raise _first_failure(failures)
        return records
    finally:
        for running in started:
            running.cancel()


def _first_failure(failures: list[TrainingFailed | ContractError]) -> TrainingFailed | ContractError:
    """The first run's failure, with one line for each other run that failed: one cause, told once."""
    first, others = failures[0], failures[1:]
    if not others:
        return first
    notes = []
    for other in others:
        label, cause = _label_and_cause(other)
        notes.append(
            f"[{label} failed the same way]" if cause == _label_and_cause(first)[1] else f"[{label}: {cause}]"
        )
    if isinstance(first, TrainingFailed):
        return TrainingFailed(first.label, first.message, "\n".join([first.tail, *notes]).strip("\n"))
    return ContractError("\n".join([str(first), *notes]))


def _label_and_cause(failure: TrainingFailed | ContractError) -> tuple[str, str]:
    """A failed run's label and its cause in one line: the message without the label, and the last output line."""
    if isinstance(failure, TrainingFailed):
        last = failure.tail.strip().splitlines()[-1:]
        return failure.label, " ".join([failure.message.removesuffix(" the end of its output:"), *last])
    label, _, cause = str(failure).partition(": ")
    return (label, cause.splitlines()[0]) if cause else ("another run", label)
