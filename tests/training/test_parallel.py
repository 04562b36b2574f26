"""The cross-validation fits run in worker processes and come back in a fixed order, byte for byte."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from small_project import write_small_project

from pytest_repro.contract import WORKERS_VARIABLE, available_cores
from pytest_repro.errors import ConfigError
from training.evaluation import FoldOutcome, cross_validate_models
from training.parallel import CostFirst, run_tasks, worker_count

ROOT = Path(__file__).resolve().parents[2]
# The lineage names its output folder, which differs between the two runs; its hashes are the files'.
OUTPUTS = ("best_model.joblib", "threshold.txt", "metrics.json", "drift_baseline.json")


def test_jobs_wins_over_the_environment_which_wins_over_the_cores():
    assert worker_count(3, {WORKERS_VARIABLE: "2"}) == 3
    assert worker_count(None, {WORKERS_VARIABLE: "2"}) == 2
    assert worker_count(None, {WORKERS_VARIABLE: " "}) == available_cores()
    assert worker_count(None, {}) == available_cores() >= 1


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5"])
def test_a_bad_worker_variable_names_the_variable_and_what_is_allowed(text):
    with pytest.raises(ConfigError, match=f"{WORKERS_VARIABLE}.*got '{text}'; expected a positive integer"):
        worker_count(None, {WORKERS_VARIABLE: text})


def test_one_worker_runs_the_tasks_in_this_process_in_order():
    seen = []

    def record(task: int) -> int:
        seen.append((task, os.getpid()))
        return task * 10

    finished = []
    results = run_tasks(record, [3, 1, 2], workers=1, on_result=lambda i, r: finished.append((i, r)))
    assert results == [30, 10, 20]
    assert seen == [(3, os.getpid()), (1, os.getpid()), (2, os.getpid())]
    assert finished == [(0, 30), (1, 10), (2, 20)]


def test_the_first_task_of_each_group_starts_first_then_the_costliest_groups():
    order = CostFirst(["cheap", "cheap", "dear", "dear", "dear", "mid", "mid"])
    assert [order.take(0.0), order.take(0.0)] == [0, 2]  # one of each group, in task order
    order.finished(0, 0.1)
    assert order.take(0.1) == 5  # "mid" has not started yet
    order.finished(5, 1.0)
    # "dear" is still running after 2 s: it costs at least that, more than "mid" (1 s) or "cheap".
    assert order.take(2.0) == 3
    order.finished(2, 3.0)
    order.finished(3, 3.0)
    assert [order.take(5.0) for _ in range(3)] == [4, 6, 1]
    assert order.pending == []


def test_ties_in_cost_go_to_the_earlier_task():
    order = CostFirst(["a", "b", "a", "b"])
    order.take(0.0), order.take(0.0)
    order.finished(0, 1.0)
    order.finished(1, 1.0)
    assert [order.take(1.0), order.take(1.0)] == [2, 3]


def test_results_are_assembled_by_model_then_fold_whatever_the_scores(monkeypatch):
    """The outcomes are paired with their (model, fold) task by position, never by arrival."""
    X = np.arange(8.0).reshape(-1, 1)
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    folds = [
        (np.arange(2, 8), np.array([0, 1])),
        (np.array([0, 1, 4, 5, 6, 7]), np.array([2, 3])),
        (np.arange(4), np.arange(4, 8)),
    ]
    calls = []

    def fake_run(function, tasks, workers, *, group, on_result):
        assert workers == 2
        outcomes = []
        for task in tasks:  # a score that names its task: model index * 10 + fold
            value = float(("a", "b").index(task.name) * 10 + task.k)
            outcomes.append(FoldOutcome(np.full(len(task.valid), value), "probability", value, 0.0))
        for index in reversed(range(len(tasks))):  # finishing in the opposite order
            on_result(index, outcomes[index])
        return outcomes

    monkeypatch.setattr("training.parallel.run_tasks", fake_run)
    results = cross_validate_models(
        {"a": object(), "b": object()}, X, y, folds, workers=2, on_fold=lambda *c: calls.append(c[:4])
    )
    assert list(results) == ["a", "b"]
    assert results["a"].fold_scores == (1.0, 2.0, 3.0)
    assert results["b"].fold_scores == (11.0, 12.0, 13.0)
    np.testing.assert_array_equal(results["b"].oof_scores, [11, 11, 12, 12, 13, 13, 13, 13])
    # Progress follows the order the folds finished in; the results never do.
    assert calls == [("b", k, 3, 10.0 + k) for k in (3, 2, 1)] + [("a", k, 3, float(k)) for k in (3, 2, 1)]


def _sleep_then_return(task: tuple[float, int]) -> tuple[int, int]:
    seconds, value = task
    time.sleep(seconds)
    return value, os.getpid()


@pytest.mark.slow
def test_two_workers_return_results_in_task_order_even_when_later_tasks_finish_first():
    # The first task sleeps longest, so the second finishes before it.
    tasks = [(1.0, 0), (0.0, 1), (0.2, 2), (0.0, 3)]
    finished = []
    results = run_tasks(_sleep_then_return, tasks, workers=2, on_result=lambda i, r: finished.append(i))
    assert [value for value, _ in results] == [0, 1, 2, 3]
    assert os.getpid() not in {pid for _, pid in results}
    assert len({pid for _, pid in results}) == 2
    assert sorted(finished) == [0, 1, 2, 3] and finished[-1] == 0  # the long one came in last


def _fail_on_two(task: int) -> int:
    if task == 2:
        raise ValueError("task 2 failed")
    time.sleep(0.1)
    return task


@pytest.mark.slow
def test_a_failing_task_raises_its_error_in_the_caller():
    with pytest.raises(ValueError, match="task 2 failed"):
        run_tasks(_fail_on_two, list(range(6)), workers=2)
    assert run_tasks(_fail_on_two, [0, 1], workers=2) == [0, 1]  # and the next call gets fresh workers


def _train(project: Path, out: Path, jobs: int) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(WORKERS_VARIABLE, None)
    result = subprocess.run(
        [sys.executable, "-m", "training", "--jobs", str(jobs), "--output-dir", str(out)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.slow
def test_one_and_two_workers_write_identical_bytes(tmp_path: Path):
    """Every model kind of the demo, fitted fold by fold in one process and in two workers."""
    project = write_small_project(
        tmp_path / "project",
        rows=2000,
        models={
            "logistic_regression": {"max_iter": 300},
            "knn": {"n_neighbors": 7},
            "svm": {"C": 1.0, "kernel": "rbf", "gamma": "scale"},
            "decision_tree": {"max_depth": 6, "min_samples_leaf": 10},
            "random_forest": {"n_estimators": 30, "min_samples_leaf": 2},
        },
        n_splits=3,
    )
    assert "folds in" not in _train(project, project / "one", jobs=1)  # fitted in this process
    assert "5 models x 3 folds in 2 workers" in _train(project, project / "two", jobs=2)
    for name in OUTPUTS:
        one, two = (project / run / name for run in ("one", "two"))
        assert one.read_bytes() == two.read_bytes(), name


def test_jobs_must_be_a_positive_integer(capsys):
    from training.cli import train_main

    with pytest.raises(SystemExit) as exit_info:
        train_main(["--jobs", "0"])
    assert exit_info.value.code == 2
    assert "--jobs: expected a positive integer, got '0'" in capsys.readouterr().err


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")
def test_workers_exit_when_the_training_is_killed_outright(tmp_path: Path):
    """SIGKILL of the training alone (not its process group): its fold workers must not linger."""
    project = write_small_project(
        tmp_path / "project",
        rows=3000,
        models={"random_forest": {"n_estimators": 5000, "min_samples_leaf": 2}},  # minutes a fold
        n_splits=3,
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(WORKERS_VARIABLE, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "training", "--jobs", "2"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that the group can be cleaned up whatever happens
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "folds in 2 workers" in line:
                break
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = {pid for pid in _children(process.pid) if "LokyProcess" in _cmdline(pid)}
            time.sleep(0.1)
        assert len(workers) == 2, "the training started no fold workers"
        process.kill()  # the training only, as `kill -9 PID` does
        process.wait(timeout=60)
        deadline = time.monotonic() + 30  # far less than a fold takes: only an exit can beat it
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers), "fold workers outlived the killed training"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
