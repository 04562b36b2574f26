"""A difference leads with the line of the user's code that caused it, read from the runs' recorder.

Planted causes, one each, in a command training and a function training: the failure's
first line names the planted file and line.  Deterministic controls get no cause line,
and their twins record identical logs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pytest_repro.diagnose.causes import cause_line, variation_cause
from pytest_repro.diagnose.unseeded import candidate_causes

DATA = "a,b,y\n" + "".join(f"{i % 7 / 7:.3f},{(i * 3) % 11 / 11:.3f},{int(i % 7 > 3)}\n" for i in range(90))

SCRIPT = """\
import json, pickle
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

rows = [line.split(",") for line in Path("data/train.csv").read_text().splitlines()[1:]]
X = np.array([[float(a), float(b)] for a, b, _ in rows])
y = np.array([int(label) for _, _, label in rows])
order = {order}
model = RandomForestClassifier(n_estimators=6, max_depth=3, {forest}).fit(X[order], y[order])
Path("models").mkdir(exist_ok=True)
Path("models/model.pkl").write_bytes(pickle.dumps(model))
"""
ORDER_LINE = 10  # the line of `order = ...` in SCRIPT
FIT_LINE = 11

FUNCTION = """\
import pickle
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def train(config_path, output_dir, seed=None, overrides=None):
    X = np.arange(120, dtype=float).reshape(60, 2) % 7
    y = (X[:, 0] > 3).astype(int)
    model = RandomForestClassifier(n_estimators=6, max_depth=3, {forest}).fit(X, y)
    Path(output_dir, "model.pkl").write_bytes(pickle.dumps(model))
    return {{"artifacts": {{"model": "model.pkl"}}, "metrics": {{}}}}
"""
FUNCTION_FIT_LINE = 11


def _script_project(root: Path, *, order: str, forest: str) -> Path:
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(SCRIPT.format(order=order, forest=forest))
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_text(DATA)
    (root / ".gitignore").write_text("data/\nmodels/\n")
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_command = "python src/train.py"\nrepro_outputs = ["models/*.pkl"]\n'
    )
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    return root


def _function_project(pytester: pytest.Pytester, *, forest: str) -> None:
    pytester.makepyfile(trainfn=FUNCTION.format(forest=forest))
    pytester.makefile(".yaml", config="seed: 1\n")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nrepro_train = "trainfn:train"\n')


def _failure_first_line(result: pytest.RunResult, item: str) -> str:
    lines = result.stdout.lines
    header = next(i for i, line in enumerate(lines) if line.strip("_ ").startswith(f"repro {item}"))
    return lines[header + 1]


@pytest.mark.slow
def test_an_unseeded_numpy_permutation_in_a_script_is_named_by_its_line(pytester: pytest.Pytester):
    _script_project(pytester.path, order="np.random.permutation(len(y))", forest="random_state=0")
    result = pytester.runpytest_subprocess("--repro", "-m", "repro", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _failure_first_line(result, "artifacts") == (
        f"cause: src/train.py:{ORDER_LINE} np.random.permutation draws from numpy's global generator, "
        "which nothing seeded"
    )


@pytest.mark.slow
def test_an_unseeded_forest_in_a_script_is_named_by_the_line_that_fits_it(pytester: pytest.Pytester):
    _script_project(pytester.path, order="slice(None)", forest="random_state=None")
    result = pytester.runpytest_subprocess("--repro", "-m", "repro", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _failure_first_line(result, "artifacts").startswith(
        f"cause: src/train.py:{FIT_LINE} an estimator with random_state=None draws from numpy's global generator"
    )


@pytest.mark.slow
def test_an_unseeded_forest_in_a_function_is_named_by_the_line_that_fits_it(pytester: pytest.Pytester):
    _function_project(pytester, forest="random_state=None")
    result = pytester.runpytest_subprocess("--repro", "-m", "repro", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _failure_first_line(result, "artifacts").startswith(
        f"cause: trainfn.py:{FUNCTION_FIT_LINE} an estimator with random_state=None draws"
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["command", "function"])
def test_a_seeded_parallel_forest_passes_with_no_cause_and_identical_logs(
    pytester: pytest.Pytester, kind: str
):
    if kind == "command":
        _script_project(pytester.path, order="slice(None)", forest="random_state=0, n_jobs=2")
    else:
        _function_project(pytester, forest="random_state=0, n_jobs=2")
    result = pytester.runpytest_subprocess(
        "--repro", "-m", "repro", "-p", "no:cacheprovider", "--basetemp=runs"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "cause:" not in result.stdout.str()
    records = sorted((pytester.path / "runs").rglob("run-?.repro-record.json"))
    assert [path.name for path in records] == ["run-a.repro-record.json", "run-b.repro-record.json"]
    # What was read, and where: counts aside (a library's polling loop reads the clock as often as it waits).
    events = [
        {
            (kind, e["detail"], e["site"])
            for kind, found in json.loads(path.read_text())["events"].items()
            for e in found
        }
        for path in records
    ]
    assert events[0] and events[0] == events[1]


def test_no_event_means_no_cause():
    assert cause_line(None, None) is None
    assert (
        cause_line({"open": [{"detail": "data/train.csv", "site": "src/train.py:3", "count": 1}]}, {}) is None
    )


def test_a_file_outside_the_project_read_by_one_run_only_is_named():
    read = {"open": [{"detail": "/home/me/.cache/proj/order.npy", "site": "src/train.py:31", "count": 1}]}
    assert cause_line(read, {}) == (
        "cause: src/train.py:31 reads /home/me/.cache/proj/order.npy (outside the project), which only one run read"
    )


def test_a_folder_listed_in_another_order_is_named_between_twins():
    listed = {"detail": "data/shards", "site": "src/data.py:5", "count": 1, "direct": True}
    a = {"listdir": [{**listed, "value": "0000aaaa/0000ffff"}]}
    b = {"listdir": [{**listed, "value": "0000bbbb/0000ffff"}]}
    assert cause_line(a, b) == "cause: src/data.py:5 lists data/shards in directory order"
    other_names = {"listdir": [{**listed, "value": "0000bbbb/0000eeee"}]}
    assert cause_line(a, other_names) is None  # other names: another folder's content, not its order


def test_a_variation_names_the_earliest_changed_event_the_users_own_first():
    reference = {
        "clock": [
            {"detail": "time.time", "site": "src/train.py:1", "order": 0, "value": 10, "direct": False},
            {"detail": "datetime.now()", "site": "src/train.py:9", "order": 5, "value": "2026-01-01T10"},
        ],
        "env": [{"detail": "TZ", "site": "src/features.py:12", "order": 7, "direct": True}],
    }
    shifted = {
        "clock": [
            {"detail": "time.time", "site": "src/train.py:1", "order": 0, "value": 9610, "direct": False},
            {"detail": "datetime.now()", "site": "src/train.py:9", "order": 5, "value": "2027-02-05T10"},
        ],
        "env": reference["env"],
    }
    assert variation_cause(reference, shifted, {"LD_PRELOAD"}) == "cause: src/train.py:9 calls datetime.now()"
    assert variation_cause(reference, reference, {"TZ"}) == "cause: src/features.py:12 reads TZ"
    assert variation_cause(reference, reference, {"HOME"}) is None
    assert variation_cause(None, shifted, {"TZ"}) is None


@pytest.mark.filterwarnings("ignore:The max_iter was reached")
def test_an_lbfgs_logistic_regression_is_never_a_candidate_cause():
    np = pytest.importorskip("numpy")
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = np.arange(40.0).reshape(20, 2), [0, 1] * 10
    fitted = [linear_model.LogisticRegression().fit(X * scale, y) for scale in (1.0, 1.01)]
    assert candidate_causes(np, "model", *fitted, limit=5) == []
    saga = [linear_model.LogisticRegression(solver="saga", max_iter=500).fit(X * s, y) for s in (1.0, 1.01)]
    assert candidate_causes(np, "model", *saga, limit=5) == [
        "candidate cause: model LogisticRegression has random_state=None"
    ]
