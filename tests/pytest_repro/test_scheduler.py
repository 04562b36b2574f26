"""One queue for the session's trainings: twins first, started before collection, the probe right behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_repro.core.core_count import available_cores
from pytest_repro.core.run_records import RunRequest
from pytest_repro.running import scheduler as scheduler_module
from pytest_repro.running.scheduler import TrainingScheduler, core_share


def test_each_run_of_a_batch_gets_an_equal_share_of_the_cores_and_at_least_one():
    assert core_share(2, cores=2) == 1
    assert core_share(1, cores=2) == 2
    assert core_share(2, cores=8) == 4
    assert core_share(3, cores=2) == 1
    assert core_share(1) == available_cores()


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Replace the launcher's start and wait with a record of what the scheduler asked, in order.

    The real subprocesses are exercised by the session test below; this one pins the order.
    """
    events: list[tuple[str, str, int]] = []

    class Started:
        finished_at = None

        def __init__(self, labels):
            self.labels = labels

        def cancel(self):
            events.append(("cancel", self.labels, 0))

    def start_runs(request, runs, share, **_):
        events.append(("start", ",".join(runs), share))
        return [Started(",".join(runs))]

    def wait_runs(started):
        labels = started[0].labels
        events.append(("wait", labels, 0))
        return dict.fromkeys(labels.split(","), "record")

    monkeypatch.setattr(scheduler_module, "start_runs", start_runs)
    monkeypatch.setattr(scheduler_module, "wait_runs", wait_runs)
    return events


def test_a_batch_waits_for_the_one_before_it_and_starts_the_moment_it_ends(log, tmp_path: Path):
    scheduler = TrainingScheduler(cores=2)
    request = RunRequest("m:f", tmp_path / "config.yaml")
    twins = scheduler.submit(request, {"run-a": tmp_path / "a", "run-b": tmp_path / "b"})
    probe = scheduler.submit(request, {"seed-4": tmp_path / "s"})

    assert log == [("start", "run-a,run-b", 1)]  # the probe is queued, not started
    assert twins.wait() == {"run-a": "record", "run-b": "record"}
    # The twins' verdict came without the probe; the probe started as they ended, with both cores.
    assert log == [("start", "run-a,run-b", 1), ("wait", "run-a,run-b", 0), ("start", "seed-4", 2)]
    assert probe.wait() == {"seed-4": "record"}
    assert scheduler.pending == ()


def test_waiting_for_a_queued_batch_finishes_the_ones_before_it_first(log, tmp_path: Path):
    scheduler = TrainingScheduler(cores=2)
    request = RunRequest("m:f", tmp_path / "config.yaml")
    scheduler.submit(request, {"run-a": tmp_path / "a", "run-b": tmp_path / "b"})
    probe = scheduler.submit(request, {"seed-4": tmp_path / "s"})

    probe.wait()

    assert [event[:2] for event in log] == [
        ("start", "run-a,run-b"),
        ("wait", "run-a,run-b"),
        ("start", "seed-4"),
        ("wait", "seed-4"),
    ]


def test_a_cancelled_batch_never_starts_and_lets_the_next_one_go(log, tmp_path: Path):
    scheduler = TrainingScheduler(cores=2)
    request = RunRequest("m:f", tmp_path / "config.yaml")
    first = scheduler.submit(request, {"run-a": tmp_path / "a", "run-b": tmp_path / "b"})
    second = scheduler.submit(request, {"seed-4": tmp_path / "s"})

    first.cancel()

    assert log[-2:] == [("cancel", "run-a,run-b", 0), ("start", "seed-4", 2)]
    assert second.wait() == {"seed-4": "record"}


# ------------------------------------------------------------------ a real session

# Every training appends its seed and the share of the cores it was given, to a log outside
# the project (a run may not write into it).
LOG_TRAINING = (
    "import os; log = Path(os.environ['TRAININGS_LOG']).open('a'); "
    "log.write(json.dumps({'seed': seed, 'workers': os.environ.get('REPRO_WORKERS'), "
    "'threads': os.environ.get('OMP_NUM_THREADS')}) + '\\n'); log.close()"
)

# Collection does not end until a training has started: without the twins starting at
# session start, this would wait out its minute and say so.
SLOW_COLLECTION = """\
import os
import time
from pathlib import Path


def pytest_collection_finish(session):
    root = Path(session.config.rootpath)
    log = Path(os.environ["TRAININGS_LOG"])
    deadline = time.monotonic() + 60
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = log.exists()
    (root / "collection.txt").write_text("a training started during collection" if seen else "none")
"""


# A user's suite that runs before every generated check: many short tests (the twins are
# read between two tests), then one that passes only if the seed probe started meanwhile,
# not when the first twin check came up.
SUITE = """\
import json
import os
import time
from pathlib import Path

import pytest

LOG = Path(os.environ["TRAININGS_LOG"])


def probe_started():
    return LOG.exists() and any(json.loads(line)["seed"] == 4 for line in LOG.read_text().splitlines())


@pytest.mark.parametrize("tick", range(1200))
def test_tick(tick):
    if not probe_started():
        time.sleep(0.1)


def test_the_probe_started_while_the_suite_ran():
    assert probe_started()
"""


@pytest.mark.slow
def test_twins_start_before_collection_ends_and_the_seed_probe_trains_beside_or_behind_them(
    example, monkeypatch
):
    log = example.path.parent / f"{example.path.name}-trainings.log"
    monkeypatch.setenv("TRAININGS_LOG", str(log))
    example.write(before=LOG_TRAINING, isolation=None, ini={"repro_seed_sensitivity": "warn"})
    example.pytester.makeconftest(SLOW_COLLECTION)
    # In a folder that sorts before config.yaml, so that it runs before the generated checks.
    (example.path / "a").mkdir()
    (example.path / "a" / "test_suite.py").write_text(SUITE)

    result = example.run_subprocess("--repro", "--repro-vary=tz")

    result.stdout.fnmatch_lines(
        ["seed-sensitivity * seed used (seed 4 changed *)", "vary[[]tz] * identical *"]
    )
    result.stdout.fnmatch_lines(["a/test_suite.py .*", "config.yaml *"])  # in this order
    assert result.ret == pytest.ExitCode.OK
    assert (example.path / "collection.txt").read_text() == "a training started during collection"
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    share = str(core_share(2))
    # Two twins with half the cores each, and one probe run with the twins' BLAS threads: beside
    # them with their one core where they get one core each, else behind them with every core
    # for its worker processes.
    # The probe may log its start before a twin's: beside them, the three start together.
    assert [run for run in runs if run["seed"] == 3][:2] == [
        {"seed": 3, "workers": share, "threads": share}
    ] * 2
    workers = share if share == "1" else str(core_share(1))
    assert [run for run in runs if run["seed"] == 4] == [{"seed": 4, "workers": workers, "threads": share}]
    # Queued once, however many later checks ask for the twins (the variation hunt trains seed 3).
    assert [run["seed"] for run in runs].count(4) == 1


@pytest.mark.slow
def test_twins_started_ahead_are_stopped_when_no_selected_test_needs_them(example):
    example.write(before=LOG_TRAINING + "; time.sleep(5)", isolation=None)
    example.pytester.makepyfile(test_plain="def test_plain():\n    pass\n")

    result = example.run_subprocess("--repro", "-k", "test_plain")

    result.assert_outcomes(passed=1)
    # Stopped, not waited for: no run lived to write its record.
    assert not list(example.path.glob("**/*.repro-record.json"))
    assert result.ret == pytest.ExitCode.OK
