"""The session's one run service: each training once, the seed probe beside the twins, nothing left running.

Real sessions of the nearest-centroid project of `support/script_projects.py`, trained as
a command and as a function.  Its `fit` (shared by both kinds) logs, to a file outside
the project, when a training starts and when its process ends, and the process id, so
the tests read what the service did from the trainings themselves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from script_projects import command_ini, function_ini, script_project

pytestmark = pytest.mark.slow

SEED = 7
KINDS = {
    "command": lambda **ini: command_ini(repro_seed=str(SEED), **ini).replace(
        'python src/train.py"', 'python src/train.py --seed {seed}"'
    ),
    "function": lambda **ini: function_ini(repro_seed=str(SEED), **ini),
}

# At most two of the cores this process may use, whatever this machine has: there the twins get one core each.
ON_TWO_CORES = ("taskset", "-c", ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0))[:2]))

# Prepended to `fit`: the start (and process id) now, the end when the process exits.
LOGGED_FIT = """\
def fit(seed, root=Path(".")):
    import atexit
    import os
    import time

    def log(line):
        with open(os.environ["TRAININGS_LOG"], "a") as file:
            file.write(line + "\\n")

    log(f"start {seed} {os.getpid()} {os.environ.get('OMP_NUM_THREADS')}")
    atexit.register(log, f"end {seed}")
    time.sleep(float(os.environ.get(f"TRAINING_SLEEP_{seed}", os.environ.get("TRAINING_SLEEP", "0"))))
    if os.environ.get(f"TRAINING_FAILS_{seed}"):
        raise RuntimeError(f"planted failure of seed {seed}")
    fitted = _fit(seed, root)
    log(f"fitted {seed}")
    return fitted


def _fit(seed, root=Path(".")):"""

USER_TESTS = """\
import pytest


@pytest.mark.repro
@pytest.mark.parametrize("case", range(3))
def test_user_check_asks_for_the_twins(repro_twins, case):
    assert repro_twins.a.hashes == repro_twins.b.hashes
"""


def logged_project(
    root: Path, ini: str, log: Path, monkeypatch: pytest.MonkeyPatch, sleep: float, noise: str = "0.0"
) -> Path:
    """The script project with a logging `fit`, committed; trainings log to `log`, outside the project."""
    script_project(root, ini, noise=noise)
    model = root / "src" / "model.py"
    model.write_text(model.read_text().replace('def fit(seed, root=Path(".")):', LOGGED_FIT, 1))
    (root / "test_user.py").write_text(USER_TESTS)
    for command in (["add", "-A"], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "log"]):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    monkeypatch.setenv("TRAININGS_LOG", str(log))
    monkeypatch.setenv("TRAINING_SLEEP", str(sleep))
    # When this suite itself runs under xdist, the inner sessions must not believe they are workers.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.chdir(root)
    return root


def log_lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_three_tests_and_every_check_asking_for_the_twins_share_one_pair_of_trainings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
):
    log = pytester.path.parent / f"{pytester.path.name}-trainings.log"
    logged_project(pytester.path / kind, KINDS[kind](repro_seed_sensitivity="off"), log, monkeypatch, sleep=0)

    result = pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(["test_user.py ...*"])
    assert result.ret == pytest.ExitCode.OK
    # Two trainings in all: the twins, once, however many tests and checks asked for them.
    assert (
        sorted(line[:2] for line in log_lines(log) if line[0] != "fitted")
        == [["end", str(SEED)]] * 2 + [["start", str(SEED)]] * 2
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_seed_probe_trains_beside_twins_that_get_one_core_each_with_their_threads(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
):
    log = pytester.path.parent / f"{pytester.path.name}-trainings.log"
    # Long enough that a probe queued behind the twins would log its start after their end.
    logged_project(
        pytester.path / kind, KINDS[kind](repro_seed_sensitivity="warn"), log, monkeypatch, sleep=3
    )

    # On at most two cores the twins get one core each (this machine may have more).
    result = pytester.run(*ON_TWO_CORES, sys.executable, "-m", "pytest", "--repro", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(["seed-sensitivity * seed used *"])
    assert result.ret == pytest.ExitCode.OK
    lines = log_lines(log)
    starts = sorted((line[1], line[3]) for line in lines if line[0] == "start")
    # The twins and the probe, each trained once, each with one BLAS/OpenMP thread.
    assert starts == [(str(SEED), "1"), (str(SEED), "1"), (str(SEED + 1), "1")]
    # All three started before any ended: the probe did not wait for the twins.
    assert [line[0] for line in lines[:3]] == ["start"] * 3, lines


# Runs after the generated checks have read the twins (last, by name): the probe must be gone
# by then, not at session end.  ARGUMENTS: `repro_twins` to read them here too, or nothing.
PROBE_GONE_TEST = """\
import os
import time
from pathlib import Path


def test_zz_the_probe_is_gone_once_the_twins_are_read(ARGUMENTS):
    lines = [line.split() for line in Path(os.environ["TRAININGS_LOG"]).read_text().splitlines()]
    pid = next(int(line[2]) for line in lines if line[:2] == ["start", os.environ["PROBE_SEED"]])
    for _ in range(600):
        status = Path(f"/proc/{pid}/status")
        if not status.exists() or "State:\\tZ" in status.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"the probe {pid} still trains after the twins were read")
"""


def probe_project(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    modules: dict[str, str],
    noise: str = "0.0",
    **env: str,
) -> tuple[Path, Path]:
    """The logged project with its seed probe checked: `modules` (file name: text) beside its
    tests, `env` set; its root and the log its trainings write."""
    log = pytester.path.parent / f"{pytester.path.name}-trainings.log"
    ini = KINDS[kind](repro_seed_sensitivity="warn")
    root = logged_project(pytester.path / kind, ini, log, monkeypatch, sleep=1, noise=noise)
    for name, text in modules.items():
        (root / name).write_text(text)
    for name, value in {"PROBE_SEED": str(SEED + 1), **env}.items():
        monkeypatch.setenv(name, value)
    return root, log


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_probe_beside_twins_that_differ_is_stopped_once_they_are_read(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
):
    # A metric the twins disagree on; the probe would sleep long after they end.
    gone = {"test_zz_probe.py": PROBE_GONE_TEST.replace("ARGUMENTS", "repro_twins")}
    _, log = probe_project(
        pytester, monkeypatch, kind, gone, noise="random.random()", **{f"TRAINING_SLEEP_{SEED + 1}": "300"}
    )

    result = pytester.run(*ON_TWO_CORES, sys.executable, "-m", "pytest", "--repro", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(["test_zz_probe.py .*", "seed-sensitivity * inconclusive*"])
    lines = log_lines(log)
    assert ["start", str(SEED + 1)] in [line[:2] for line in lines]  # it started beside the twins
    assert ["fitted", str(SEED + 1)] not in [line[:2] for line in lines]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_probe_beside_twins_that_fail_is_stopped_once_they_are_read(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
):
    # The twins' seed fails; the probe's would sleep long. The first module holds collection
    # until the probe has started; the last runs after the checks have read the failed twins.
    modules = {
        "test_aa_collected_first.py": PROBE_STARTED_TEST,
        "test_zz_probe.py": PROBE_GONE_TEST.replace("ARGUMENTS", ""),
    }
    env = {f"TRAINING_FAILS_{SEED}": "1", f"TRAINING_SLEEP_{SEED + 1}": "300"}
    _, log = probe_project(pytester, monkeypatch, kind, modules, **env)

    result = pytester.run(*ON_TWO_CORES, sys.executable, "-m", "pytest", "--repro", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(
        ["test_aa_collected_first.py .*", "test_zz_probe.py .*", "*planted failure of seed 7*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert ["fitted", str(SEED + 1)] not in [line[:2] for line in log_lines(log)]


# Collected before the checks: its module waits (a bound, not a measurement) for the probe's start.
PROBE_STARTED_TEST = """\
import os
import time
from pathlib import Path


def _probe_started():
    log = Path(os.environ["TRAININGS_LOG"])
    lines = log.read_text().splitlines() if log.exists() else []
    return any(line.split()[:2] == ["start", os.environ["PROBE_SEED"]] for line in lines)


for _ in range(1200):
    if _probe_started():
        break
    time.sleep(0.05)
STARTED_DURING_COLLECTION = _probe_started()


def test_the_probe_started_while_pytest_collected():
    assert STARTED_DURING_COLLECTION
"""


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_probe_the_command_line_selects_starts_with_the_twins_before_collection_ends(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
):
    _, log = probe_project(pytester, monkeypatch, kind, {"test_aa_collected_first.py": PROBE_STARTED_TEST})

    # `-m` selects the probe's check (repro_probe), so it starts before collection ends.
    result = pytester.run(
        *ON_TWO_CORES, sys.executable, "-m", "pytest", "--repro", "-p", "no:cacheprovider", "-m", "not slow"
    )

    result.stdout.fnmatch_lines(["test_aa_collected_first.py .*", "seed-sensitivity * seed used *"])
    assert result.ret == pytest.ExitCode.OK
    starts = sorted(line[1] for line in log_lines(log) if line[0] == "start")
    assert starts == [str(SEED), str(SEED), str(SEED + 1)]  # each once: the probe was not trained again


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_probe_started_ahead_whose_check_collection_deselects_is_stopped_when_collection_ends(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
):
    root, log = probe_project(pytester, monkeypatch, kind, {}, **{f"TRAINING_SLEEP_{SEED + 1}": "300"})
    collected = pytester.runpytest_subprocess("--repro", "--collect-only", "-q", "-p", "no:cacheprovider")
    (check,) = [line for line in collected.outlines if line.endswith("::seed-sensitivity")]
    # The command line does not tell that the check is deselected: the probe starts (the first
    # module holds collection until it has), then must stop when collection ends.
    (root / "test_aa_collected_first.py").write_text(PROBE_STARTED_TEST)
    (root / "test_zz_probe.py").write_text(PROBE_GONE_TEST.replace("ARGUMENTS", "repro_twins"))

    result = pytester.run(
        *ON_TWO_CORES,
        sys.executable,
        "-m",
        "pytest",
        "--repro",
        "-p",
        "no:cacheprovider",
        "--deselect",
        check,
    )

    result.stdout.fnmatch_lines(["test_aa_collected_first.py .*", "test_zz_probe.py .*"])
    assert result.ret == pytest.ExitCode.OK
    assert "seed-sensitivity" not in result.stdout.str()
    assert ["fitted", str(SEED + 1)] not in [line[:2] for line in log_lines(log)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_interrupted_session_leaves_no_training_process_alive(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kind: str
):
    log = pytester.path.parent / f"{pytester.path.name}-trainings.log"
    root = logged_project(
        pytester.path / kind, KINDS[kind](repro_seed_sensitivity="off"), log, monkeypatch, sleep=120
    )
    session = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--repro", "-p", "no:cacheprovider", "-q"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: len(log_lines(log)) >= 2), "the twins never started"
        pids = [int(line[2]) for line in log_lines(log)]
        session.send_signal(signal.SIGINT)  # as Ctrl-C does: pytest stops and ends its session
        assert session.wait(timeout=60) == pytest.ExitCode.INTERRUPTED
        gone = _wait_for(lambda: not any(_alive(pid) for pid in pids))
        assert gone, f"still running after the session ended: {[pid for pid in pids if _alive(pid)]}"
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()


def _wait_for(condition, limit: float = 60.0) -> bool:
    """Poll `condition` until it holds (True) or `limit` seconds pass (False); a bound, not a measurement."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (an ended process its parent has not reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


if not Path("/proc/self/status").exists():  # pragma: no cover - the process table is read from /proc
    pytestmark = [pytestmark, pytest.mark.skip(reason="reads the process table from /proc (Linux)")]
