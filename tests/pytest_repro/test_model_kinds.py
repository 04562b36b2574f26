"""Models of every kind are compared by what they learned: LightGBM in a Pipeline, a saved model.txt.

Planted trainings, one cause each, as a function (`repro_train`) and as a script
(`repro_command`): a LightGBM feature computed from today's date fails the `time`
variation under `--repro-vary=all` (it passed, because the all-at-once run also varied
`n_jobs` and its model was declared to "differ only in n_jobs" without its trees ever
being compared), and a LightGBM seeded from the training's seed is "seed used", not
"model seed-independent".  Deterministic controls, a seeded LightGBM and a seeded
forest with `n_jobs=2`, pass every variation.
"""

from __future__ import annotations

import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest

from pytest_repro.variations.clock import unavailable_reason as clock_unavailable

# Looked up, not imported (LightGBM imports scikit-learn and pandas): every session collects this module.
pytestmark = pytest.mark.skipif(
    find_spec("lightgbm") is None, reason="LightGBM is in the dev extra; the test extra alone leaves it out"
)

NEEDS_CLOCK = pytest.mark.skipif(clock_unavailable() is not None, reason=str(clock_unavailable()))

TRAINING = """\
import datetime
import os
import pickle
from pathlib import Path

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.pipeline import Pipeline


def fit(output_dir, seed):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    first = datetime.date(2020, 1, 1)
    signups = [first + datetime.timedelta(days=int(d)) for d in rng.integers(0, 900, size=300)]
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    today = {today}
    age = np.array([(today - day).days for day in signups], dtype=float)
    booster = LGBMClassifier(
        n_estimators=25, subsample=0.8, subsample_freq=1, random_state={random_state},
        n_jobs=int(os.environ.get("REPRO_N_JOBS", "1")), verbose=-1,
    )
    model = Pipeline([("lgbm", booster)]).fit(np.column_stack([X, age]), y)
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    Path(output_dir, "model.pkl").write_bytes(pickle.dumps(model))
    return float(model.score(np.column_stack([X, age]), y))


def train(config_path, output_dir, seed=None, overrides=None):
    accuracy = fit(output_dir, 3 if seed is None else seed)
    return {{"artifacts": {{"model": "model.pkl"}}, "metrics": {{"accuracy": accuracy}}}}


if __name__ == "__main__":
    fit("models", 3)
"""
FIXED_DAY = "datetime.date(2024, 6, 1)"
# Today in UTC: a local date would also move under `tz` whenever GMT-14 is already tomorrow.
TODAY = "datetime.datetime.now(datetime.timezone.utc).date()"
FOREST = """\
import os
import pickle
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier


def train(config_path, output_dir, seed=None, overrides=None):
    X = np.random.default_rng(0).normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    seed = 3 if seed is None else seed
    model = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=seed, n_jobs=2).fit(X, y)
    Path(output_dir, "model.pkl").write_bytes(pickle.dumps(model))
    return {"artifacts": {"model": "model.pkl"}, "metrics": {"accuracy": float(model.score(X, y))}}
"""


def _function_project(pytester: pytest.Pytester, source: str, *, seed_sensitivity: str = "off") -> None:
    pytester.makepyfile(trainfn=source)
    pytester.makefile(".yaml", config="seed: 3\n")
    pytester.makepyprojecttoml(
        "[tool.pytest.ini_options]\n"
        'repro_train = "trainfn:train"\n'
        f'repro_seed_sensitivity = "{seed_sensitivity}"\n'
    )


def _script_project(root: Path, source: str) -> None:
    """A script training adopted with ini lines: src/train.py writes models/model.pkl."""
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(source)
    (root / ".gitignore").write_text("models/\n")
    (root / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'repro_command = "python src/train.py"\n'
        'repro_outputs = ["models/*.pkl"]\n'
        'repro_seed_sensitivity = "off"\n'
    )
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider", "-rA", *args)


@pytest.mark.slow
@NEEDS_CLOCK
@pytest.mark.parametrize("kind", ["function", "command"])
def test_a_lightgbm_feature_from_todays_date_fails_the_time_variation_among_all(
    pytester: pytest.Pytester, kind: str
):
    source = TRAINING.format(today=TODAY, random_state="seed")
    if kind == "function":
        _function_project(pytester, source)
    else:
        _script_project(pytester.path, source)

    result = _run(pytester, "--repro-vary=all")

    # The all-at-once run varies n_jobs too: its trees differ all the same, so each is tried alone.
    result.stdout.fnmatch_lines(["*the output changed; training * runs to find the cause*"])
    result.stdout.fnmatch_lines(
        [
            "*_ repro vary[[]time] _*",
            "time (the real clock -> 400 days later) changes the output:",
            "model* differs: *",
            "  model*booster_.trees: * of 25 trees differ *",
        ]
    )
    result.stdout.fnmatch_lines(["*booster_.trees[[][*]].threshold: * max |Δ| 4*"])
    result.stdout.fnmatch_lines(["FAILED *::vary[[]time] - *"])
    # n_jobs alone changes only what it sets: n_jobs and LightGBM's num_threads.
    result.stdout.fnmatch_lines(["vary[[]n_jobs] * identical*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "objects equal" not in result.stdout.str()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["lightgbm", "forest"])
def test_seeded_lightgbm_and_parallel_forest_pass_every_variation(pytester: pytest.Pytester, source: str):
    _function_project(
        pytester, TRAINING.format(today=FIXED_DAY, random_state="seed") if source == "lightgbm" else FOREST
    )

    result = _run(pytester, "--repro-vary=all")

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes
    if _cores() >= 2:
        result.stdout.fnmatch_lines(["vary[[]cpus] * identical (* cores -> * core*"])
    assert "cause:" not in result.stdout.str()


@pytest.mark.slow
def test_a_lightgbm_seeded_from_the_training_seed_uses_its_seed(pytester: pytest.Pytester):
    # Bagging (subsample) draws from the seed: every tree differs between seeds 3 and 4.
    _function_project(
        pytester, TRAINING.format(today=FIXED_DAY, random_state="seed"), seed_sensitivity="warn"
    )

    result = _run(pytester)

    result.stdout.fnmatch_lines(["seed-sensitivity * seed used (seed 4 changed model*"])
    assert "seed-independent" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


def _cores() -> int:
    from pytest_repro.core.core_count import available_cores

    return available_cores()
