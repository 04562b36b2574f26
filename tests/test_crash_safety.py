"""Kill a training at every step of publishing, and during fitting: what remains always verifies.

A project is trained once (seed 42, the "old" artifacts) and once more in a copy with
seed 7 (the "new" bytes a completed second run publishes).  Each test starts a
second training (seed 7) in a fresh copy and SIGKILLs it somewhere.  To hit a step of
the commit exactly, the training runs with REPRO_TEST_PAUSE_AT=<point>, the testing
hook in `pytest_repro.lineage.publish` that makes the process stop itself (SIGSTOP) there; the
test waits for the stop (waitpid with WUNTRACED), then kills.  Afterwards the artifacts
must be the old bytes if the kill came before the commit journal was written (and
`scripts/reproducibility_check.py` passes), or, once the journal was written, the check
fails naming the pending commit and renames nothing, and `load_model` (whose job
recovery is, with the next training's) rolls it forward to the new bytes, every one of
them, saying so; the check passes after that.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from small_project import write_small_project

from pytest_repro.lineage.publish import JOURNAL_NAME, LOCK_NAME, PAUSE_ENV

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CHECK_SCRIPT = ROOT / "scripts" / "reproducibility_check.py"
DATASET = "ml_datasource.csv"
OUTPUTS = ("best_model.joblib", "threshold.txt", "metrics.json", "drift_baseline.json")
ARTIFACTS = (*OUTPUTS, "lineage.json")
SAFETY_TIMEOUT = 300  # seconds; only so that a broken hook fails the test instead of hanging it


def _env(pause: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRO_")}
    env.update(PYTHONHASHSEED="0", PYTHONPATH=str(ROOT))
    if pause is not None:
        env[PAUSE_ENV] = pause
    return env


def _start(project: Path, *args: str, pause: str | None = None, quiet: bool = True) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "training", *(["--quiet"] if quiet else []), *args]
    # Its own process group: a kill ends the training and the worker processes its folds run in
    # (they would otherwise keep its output pipes open), as killing a job does.
    return subprocess.Popen(
        command,
        cwd=project,
        env=_env(pause),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _train(project: Path, *args: str, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    process = _start(project, *args, quiet=quiet)
    stdout, stderr = process.communicate(timeout=SAFETY_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _check(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK_SCRIPT), *args],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT,
    )


def _load_model(project: Path) -> subprocess.CompletedProcess[str]:
    """Load the model as a user's service would: through load_model, which finishes a pending commit."""
    code = (
        "from pytest_repro.lineage import load_model; "
        "load_model('artifacts/best_model.joblib', 'artifacts/lineage.json')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT,
    )


def _finish_pending_commit(project: Path) -> None:
    """The check refuses a pending commit without renaming; load_model then finishes it and says so."""
    out = project / "artifacts"
    before = sorted(p.name for p in out.iterdir())
    refused = _check(project)
    assert refused.returncode == 1, refused.stderr
    assert "an interrupted commit is pending" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == before
    loaded = _load_model(project)
    assert loaded.returncode == 0, loaded.stderr
    assert "finished an interrupted commit before loading" in loaded.stderr


def _wait_until_stopped(process: subprocess.Popen[str]) -> None:
    """Return once the process has stopped itself at its pause point; fail if it ends instead."""
    deadline = time.monotonic() + SAFETY_TIMEOUT
    while time.monotonic() < deadline:
        pid, status = os.waitpid(process.pid, os.WUNTRACED | os.WNOHANG)
        if pid and os.WIFSTOPPED(status):
            return
        if pid:
            pytest.fail(f"training ended before its pause point (status {status}): {process.stderr.read()}")
        time.sleep(0.02)
    process.kill()
    pytest.fail("training never reached its pause point")


def _kill(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=SAFETY_TIMEOUT)
    assert process.returncode == -signal.SIGKILL


def _artifact_bytes(folder: Path, names: tuple[str, ...] = ARTIFACTS) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.staged"))


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project trained with seed 42: one decision tree, two folds, a pinned 600-row slice."""
    folder = write_small_project(tmp_path_factory.mktemp("old"))
    result = _train(folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def new(old: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The bytes a completed seed-7 run publishes over the old artifacts (same layout, so same lineage)."""
    folder = tmp_path_factory.mktemp("new") / "project"
    shutil.copytree(old, folder)
    result = _train(folder, "--seed", "7")
    assert result.returncode == 0, result.stderr
    published = _artifact_bytes(folder / "artifacts")
    assert published != _artifact_bytes(old / "artifacts")
    return published


@pytest.fixture
def project(old: Path, tmp_path: Path) -> Path:
    """A fresh copy of the old project for one test to kill a training in."""
    folder = tmp_path / "project"
    shutil.copytree(old, folder)
    return folder


# (pause point, whether the commit journal was written before the kill)
KILL_POINTS = [
    pytest.param("staged:best_model.joblib", False, id="model-staged-rest-unwritten"),
    pytest.param("staged:metrics.json", False, id="half-the-artifacts-staged"),
    pytest.param("before-journal", False, id="all-staged-no-journal"),
    pytest.param("after-journal", True, id="journal-written-nothing-renamed"),
    pytest.param("renamed:best_model.joblib", True, id="first-rename-done"),
    pytest.param("renamed:lineage.json", True, id="every-rename-done-journal-left"),
]


@pytest.mark.parametrize(("point", "journal_written"), KILL_POINTS)
def test_a_kill_while_publishing_leaves_all_old_or_after_recovery_all_new_artifacts(
    project: Path, old: Path, new: dict[str, bytes], point: str, journal_written: bool
):
    out = project / "artifacts"
    process = _start(project, "--seed", "7", pause=point)
    _wait_until_stopped(process)
    _kill(process)

    assert (out / JOURNAL_NAME).exists() == journal_written
    if not journal_written:
        assert _leftovers(out), "the kill should have left staged files behind"
    else:
        _finish_pending_commit(project)
    result = _check(project)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    expected = new if journal_written else _artifact_bytes(old / "artifacts")
    assert _artifact_bytes(out) == expected
    assert not (out / JOURNAL_NAME).exists()


def test_a_training_after_a_kill_clears_the_leftovers_and_publishes(project: Path, new: dict[str, bytes]):
    out = project / "artifacts"
    process = _start(project, "--seed", "7", pause="staged:metrics.json")
    _wait_until_stopped(process)
    _kill(process)
    assert _leftovers(out)

    result = _train(project, "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert _leftovers(out) == []
    assert _artifact_bytes(out) == new
    assert _check(project).returncode == 0


def test_a_training_after_a_kill_past_the_journal_finishes_that_commit_and_says_so(
    project: Path, new: dict[str, bytes]
):
    out = project / "artifacts"
    process = _start(project, "--seed", "7", pause="renamed:best_model.joblib")
    _wait_until_stopped(process)
    _kill(process)
    assert (out / JOURNAL_NAME).exists()

    result = _train(project, "--seed", "7")
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    assert len(notes) == 1 and notes[0].startswith("note: "), result.stderr  # said even with --quiet
    assert "finished an interrupted commit of an earlier run: published best_model.joblib" in notes[0]
    assert not (out / JOURNAL_NAME).exists()
    assert _artifact_bytes(out) == new
    assert _check(project).returncode == 0


def test_a_kill_at_a_random_moment_of_fitting_leaves_verifiable_artifacts(project: Path, old: Path):
    # A second config file beside config.yaml (which the old lineage pins), with enough trees
    # that fitting lasts seconds; the kill lands a seeded-random delay after the data is loaded.
    config = yaml.safe_load((project / "config.yaml").read_text(encoding="utf-8"))
    config["models"] = {"random_forest": {"n_estimators": 400, "min_samples_leaf": 2}}
    (project / "slow.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    delay = random.Random(20240607).uniform(0.0, 0.3)

    process = _start(project, "--config", "slow.yaml", "--output-dir", "artifacts", quiet=False)
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("loaded "):  # the data is read and split: the cross-validation starts now
            break
    else:
        pytest.fail(f"training ended before it loaded its data: {process.communicate()}")
    time.sleep(delay)
    killed = process.poll() is None
    if killed:
        _kill(process)
    else:  # it finished first: then it published a complete, consistent run
        process.communicate()
        assert process.returncode == 0

    journal_written = (project / "artifacts" / JOURNAL_NAME).exists()
    if journal_written:
        _finish_pending_commit(project)
    result = _check(project)
    assert result.returncode == 0, result.stderr
    if killed and not journal_written:  # killed before publishing began: nothing may have changed
        assert _artifact_bytes(project / "artifacts") == _artifact_bytes(old / "artifacts")


def test_a_second_training_into_a_locked_folder_stops_at_once_with_one_line(
    project: Path, new: dict[str, bytes]
):
    out = project / "artifacts"
    first = _start(project, "--seed", "7", pause="before-journal")  # holds the lock while stopped
    _wait_until_stopped(first)
    try:
        second = _train(project, "--seed", "11", quiet=False)  # with progress, to show it loaded nothing
    finally:
        first.send_signal(signal.SIGCONT)
    _, first_stderr = first.communicate(timeout=SAFETY_TIMEOUT)

    assert second.returncode == 2
    lines = second.stderr.splitlines()
    assert len(lines) == 1, second.stderr  # no progress: it stopped before loading anything
    assert lines[0].startswith("error: ") and str(out) in lines[0] and LOCK_NAME in lines[0]
    assert "another training is writing to this folder" in lines[0]
    assert first.returncode == 0, first_stderr
    assert _artifact_bytes(out) == new
    assert _check(project).returncode == 0


def test_two_trainings_started_together_publish_one_whole_run(
    project: Path, old: Path, new: dict[str, bytes]
):
    # Into an empty folder, so whichever run published is told apart by its bytes.
    runs = {seed: _start(project, "--seed", seed, "--output-dir", "fresh") for seed in ("42", "7")}
    results = {
        seed: (process.communicate(timeout=SAFETY_TIMEOUT), process.returncode)
        for seed, process in runs.items()
    }

    codes = sorted(code for _, code in results.values())
    assert codes in ([0, 0], [0, 2]), results  # one after the other, or the second refused
    for (_, stderr), code in results.values():
        if code == 2:
            assert stderr.count("\n") == 1 and LOCK_NAME in stderr and "fresh" in stderr, stderr
    published = _artifact_bytes(project / "fresh", OUTPUTS)
    candidates = [_artifact_bytes(old / "artifacts", OUTPUTS), {name: new[name] for name in OUTPUTS}]
    assert published in candidates, "the published outputs mix two runs"
    result = _check(project, "--lineage", "fresh/lineage.json")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("point", "says"),
    [
        pytest.param(
            "before-journal", "nothing was published; previous artifacts were left as they were", id="before"
        ),
        pytest.param(
            "renamed:best_model.joblib",
            "the new artifacts in artifacts are partly in place; the next training or load_model "
            "finishes the commit (artifacts/.commit.json)",
            id="during-the-renames",
        ),
    ],
)
def test_ctrl_c_while_publishing_says_what_is_true(project: Path, old: Path, point: str, says: str):
    process = _start(project, "--seed", "7", pause=point)
    _wait_until_stopped(process)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGCONT)
    _, stderr = process.communicate(timeout=SAFETY_TIMEOUT)

    assert process.returncode == 130, stderr
    assert stderr.splitlines() == [f"interrupted; {says}"]
    out = project / "artifacts"
    if point == "before-journal":
        assert _artifact_bytes(out) == _artifact_bytes(old / "artifacts")
    else:
        assert (out / JOURNAL_NAME).exists()
        assert (out / "best_model.joblib").read_bytes() != (
            old / "artifacts" / "best_model.joblib"
        ).read_bytes()
