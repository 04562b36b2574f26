"""The one owner of a session's trainings: who trains what, and when.

A pytest session has one `RunService` (the plugin builds it on first use).  It holds
the one queue (`scheduler.TrainingScheduler`, sized by `available_cores`, starting
runs through one `executor.Executor`), the twin cache shared by the xdist workers, the
twins started ahead at session start, the seed probe queued behind them, and the
on-disk memo the other probes (the variation hunt, the narrowing of differing twins)
are computed once in.  Every run of the session goes through it:

- the twins, trained once per request (`twins`), started ahead when the session knows
  it will need them (`start_twins_ahead`) and stopped when no selected test does;
- the seed-sensitivity run (`plan_seed_probe`), read by its check (`probe_run`): where
  the twins get one core each it trains alongside them, on the same one core, and is
  stopped if they differ; elsewhere it queues right behind them once they agree;
- single runs in a fresh folder (`run_once`: the `repro_run` fixture);
- the variation hunt's and the narrowing's runs, submitted to `scheduler`.

`repro-vary` has no session: its hunt gets a scheduler of its own, the same path.
The service knows requests and records, never settings or checks: the plugin says
which request is the configured one and which seed the probe trains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_repro.core.environment_names import THREAD_VARIABLES
from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.running.executor import Executor
from pytest_repro.running.launcher import ProgressSink, run_inprocess
from pytest_repro.running.recorded import RecordedRun
from pytest_repro.running.scheduler import Batch, TrainingScheduler, core_share
from pytest_repro.running.shared_cache import SharedCache
from pytest_repro.running.twins import TwinCache, TwinFailure, TwinRuns

# Where a run of this session may write: a fresh folder named after `name` (pytest's tmp_path_factory.mktemp).
Scratch = Callable[[str], Path]
SEED_PROBE_FOLDER = "repro-seed-sensitivity"


@dataclass(frozen=True)
class _PlannedProbe:
    """The seed-sensitivity run a selected check will ask for, and when it may train."""

    seed: int
    request: RunRequest
    agree: Callable[[TwinRuns], bool]  # twins that differ make the probe inconclusive: it must not train


class RunService:
    """The session's trainings: the twin cache, the queue, the twins started ahead, every probe run."""

    def __init__(
        self,
        shared_dir: Path,
        scratch: Scratch,
        *,
        sink: ProgressSink | None = None,
        cores: int | None = None,
        executor: Executor | None = None,
    ):
        self.scratch = scratch
        self.scheduler = TrainingScheduler(sink, cores, executor)
        self._shared = SharedCache(shared_dir)
        self._twins = TwinCache(self._shared, sink=sink, scheduler=self.scheduler)
        self._ahead: tuple[Batch, RunRequest, str, RecordedRun | None] | None = None
        self._planned: _PlannedProbe | None = None
        self._probes: dict[int, Batch] = {}  # seed -> its batch, queued behind the twins
        self._probes_queued: set[int] = set()  # every seed ever queued ahead, so none is queued twice

    def shared_cache(self) -> SharedCache:
        """The session's on-disk memo, shared by the xdist workers (the twins' entries live there too)."""
        return self._shared

    def twins(
        self,
        request: RunRequest,
        isolation: str,
        against: RecordedRun | None = None,
        *,
        configured: bool = False,
    ) -> TwinRuns:
        """The twin runs of `request`, trained at most once per session; `TwinFailure` when they failed.

        `configured`: these are the configured training's twins: the planned seed probe
        queues behind them once they are known to agree, and one started beside them is
        stopped if they differ or fail.
        """
        try:
            twins = self._twins.get(request, isolation, against)
        except TwinFailure:
            if configured:
                self._stop_planned_probe()
            raise
        if configured:
            self._queue_planned_probe(twins)
        return twins

    def start_twins_ahead(
        self, request: RunRequest, isolation: str, against: RecordedRun | None = None
    ) -> None:
        """Start the twins of `request` now, so that they train while pytest collects (not in process)."""
        batch = self._twins.start(request, isolation, against)
        if batch is not None:
            self._ahead = (batch, request, isolation, against)

    def cancel_twins_ahead(self) -> None:
        """Stop the twins started ahead: no selected test needs them."""
        if self._ahead is not None:
            _, request, isolation, against = self._ahead
            self._twins.cancel(request, isolation, against)
            self._ahead = None

    def twins_ahead_exited(self) -> bool:
        """Whether the twins started ahead have just exited (True once): time to read them."""
        if self._ahead is None or not self._ahead[0].exited:
            return False
        self._ahead = None
        return True

    def plan_seed_probe(self, seed: int, request: RunRequest, agree: Callable[[TwinRuns], bool]) -> None:
        """A selected check will train `request` (with `seed`): start it now, or queue it behind the twins.

        Where the twins started ahead get one core each and are still training, the probe
        starts now on one core too: the twins' thread count, as its comparison needs.  Three
        single-core runs on two cores end sooner than the twins followed by a two-worker
        probe (benchmarks/performance.py), and if the twins then differ (or fail) the probe
        is stopped unread.  Otherwise it queues behind the twins once they `agree`.
        """
        self._planned = _PlannedProbe(seed, request, agree)
        if self._ahead is None or seed in self._probes_queued:
            return
        ahead = self._ahead[0]
        share = ahead.share or core_share(len(ahead.runs), self.scheduler.cores)
        if ahead.exited or share != 1:
            return
        self._probes_queued.add(seed)
        self._probes[seed] = self.scheduler.submit_alongside(
            request, self._probe_folder(seed), share, cwd=Path.cwd()
        )

    def drop_planned_probe(self) -> None:
        """Forget the planned probe, stopping it if it trains: collection did not select its check."""
        self._stop_planned_probe()
        self._planned = None

    def _queue_planned_probe(self, twins: TwinRuns) -> None:
        planned = self._planned
        if planned is None or twins.isolation == "inprocess":
            return
        if not planned.agree(twins):
            self._stop_planned_probe()
            return
        if planned.seed in self._probes_queued:
            return
        self._probes_queued.add(planned.seed)
        self._probes[planned.seed] = self._submit_probe(planned.seed, planned.request, twins.a)

    def _stop_planned_probe(self) -> None:
        """Stop the probe started alongside twins that then differed or failed: nothing will read it."""
        if self._planned is not None and (batch := self._probes.pop(self._planned.seed, None)) is not None:
            batch.cancel()

    def probe_run(self, seed: int, request: RunRequest, like: RunRecord, isolation: str) -> RunRecord:
        """The run of `request` with `seed`, in `like`'s BLAS/OpenMP thread count.

        Reuses the run queued behind the twins when there is one; otherwise queues it
        now (or trains it in this process, in process isolation).
        """
        label = f"seed-{seed}"
        if isolation == "inprocess":
            return run_inprocess(request, self.scratch(SEED_PROBE_FOLDER) / label, label)
        batch = self._probes.pop(seed, None)
        if batch is not None:
            record = next(iter(batch.wait().values()))
            if _threads(record) == _threads(like):
                return record
        return next(iter(self._submit_probe(seed, request, like).wait().values()))

    def _probe_folder(self, seed: int) -> dict[str, Path]:
        """The probe run's label and the fresh folder it trains in."""
        label = f"seed-{seed}"
        return {label: self.scratch(SEED_PROBE_FOLDER) / label}

    def _submit_probe(self, seed: int, request: RunRequest, like: RunRecord) -> Batch:
        runs = self._probe_folder(seed)
        (label,) = runs
        # The same BLAS/OpenMP threads as the run it is compared with, or a thread-dependent
        # sum could pass for the seed's effect; its worker processes take the free cores.
        threads = _threads(like)
        overrides = {label: dict.fromkeys(THREAD_VARIABLES, threads)} if threads else None
        return self.scheduler.submit(request, runs, env_overrides=overrides, cwd=Path.cwd())

    def run_once(
        self,
        request: RunRequest,
        folder: Path,
        label: str,
        *,
        in_process: bool = False,
        env_overrides: Mapping[str, str] | None = None,
    ) -> RunRecord:
        """One run of `request` into `folder`: in process, or through the queue (behind the twins, every core).

        `env_overrides`: variables the run gets besides its share of the cores (the narrowing's hash seed).
        """
        if in_process:
            return run_inprocess(request, folder, label)
        overrides = {label: env_overrides} if env_overrides else None
        return self.scheduler.submit(request, {label: folder}, env_overrides=overrides).wait()[label]

    def shutdown(self) -> None:
        """Stop every run still going (end of session: nothing will read them)."""
        self.scheduler.shutdown()


def _threads(record: RunRecord) -> str | None:
    """The BLAS/OpenMP thread count a run trained with."""
    return record.environment.get("OMP_NUM_THREADS")
