"""The fuzz properties have teeth: each fails against a planted bug.

Each test copies `tests/test_fuzz_config.py` unchanged into a pytester project, plants
one bug there without touching the project's code, and runs one property:

- the invalid-config property, against a validator that no longer enforces the lower
  bound of `models.random_forest.n_estimators` (so 0 trees would be accepted);
- the twin-training property, against a training whose CV splitter ignores the seed
  (it wraps the real entry point and swaps `training.fit.make_folds`).

A last test shows that `@pytest.mark.repro` on a `@given` test lets it use the plugin's
function-scoped fixtures without hypothesis's function_scoped_fixture health check.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from pytest_repro.settings.resolved import ReproSettings

FUZZ_TESTS = Path(__file__).with_name("test_fuzz_config.py")
COPY = "test_copied_fuzz_config"  # not the original's module name: both are imported in this process

# Many examples, derandomized, stopping at the first failure without shrinking it:
# the run has to find the planted bug, not explain it.
PROFILE = """\
from hypothesis import Phase, settings

settings.register_profile(
    "teeth",
    max_examples={max_examples},
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
)
settings.load_profile("teeth")
"""

# The rule keeps declaring n_estimators >= 1, which is what the strategies read, but its
# check no longer enforces it, which is what the validator calls.
LOWER_BOUND_NOT_ENFORCED = """
import dataclasses
import types

import pytest

from training import config as schema


@pytest.fixture(autouse=True, scope="session")
def n_estimators_lower_bound_not_enforced():
    field = {f.name: f for f in dataclasses.fields(schema.RandomForestConfig)}["n_estimators"]
    declared = field.metadata["rule"]
    lenient = dataclasses.replace(declared, low=None)

    class DeclaredButNotEnforced(schema.Rule):
        def problem(self, value):
            return lenient.problem(value)

    planted = DeclaredButNotEnforced(
        **{f.name: getattr(declared, f.name) for f in dataclasses.fields(declared)}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(field, "metadata", types.MappingProxyType({**field.metadata, "rule": planted}))
        yield
"""

# random_state=None would not do: the training seeds numpy's global generator, which
# None falls back to, so within one process such folds still repeat.  A generator
# seeded from the operating system's entropy really ignores the seed.
SEEDLESS_TRAINING = '''
"""The project's training, except that its CV folds ignore the seed."""

from unittest import mock

import numpy as np
from sklearn.model_selection import StratifiedKFold

from training.run import train_for_repro as seeded_train_for_repro


def unseeded_folds(y_train, config):
    y = np.asarray(y_train)
    entropy = np.random.RandomState()
    splitter = StratifiedKFold(n_splits=config.cv.n_splits, shuffle=True, random_state=entropy)
    return list(splitter.split(np.zeros(len(y)), y))


def train_for_repro(config_path, output_dir, seed=None, overrides=None):
    with mock.patch("training.fit.make_folds", unseeded_folds):
        return seeded_train_for_repro(config_path, output_dir, seed=seed, overrides=overrides)
'''


# What a training imports; see `_training_stack_loaded`.
TRAINING_STACK = (
    "hypothesis.internal.observability",
    "joblib",
    "threadpoolctl",
    "sklearn.model_selection",
    "pytest_repro.diagnose.compare",
    "pytest_repro.strategies",
    "demo_strategies",
    "pytest_repro.running.twins",
    "pytest_repro.lineage.environment",
    "training.data",
    "training.fit",
    "training.pipeline",
    "training.run",
)


@pytest.fixture(scope="session")
def _training_stack_loaded() -> None:
    """Import the training stack once, before any in-process run.

    pytester drops the modules an in-process run imported when it ends; numpy and
    scikit-learn must not be dropped and imported a second time.
    """
    for name in TRAINING_STACK:
        importlib.import_module(name)


@pytest.fixture
def inner_session(monkeypatch: pytest.MonkeyPatch, _training_stack_loaded: None) -> None:
    """Prepare this process for an in-process pytester run."""
    # When this suite runs under xdist, the inner session must not believe it is a worker.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


@pytest.fixture
def fuzz_project(
    pytester: pytest.Pytester, repro_settings: ReproSettings, inner_session: None
) -> Iterator[pytest.Pytester]:
    """A pytester project holding a copy of the fuzz tests and the project's training config."""
    previous_profile = settings.get_current_profile_name()
    pytester.makepyfile(**{COPY: FUZZ_TESTS.read_text(encoding="utf-8")})
    pytester.syspathinsert()
    pytester.makeini(
        f"""
        [pytest]
        repro_train = {repro_settings.entry}
        repro_config = {repro_settings.config_path}
        """
    )
    yield pytester
    settings.load_profile(previous_profile)  # the project's conftest loaded its own


def run_property(project: pytest.Pytester, name: str) -> pytest.RunResult:
    return project.runpytest(f"{COPY}.py::{name}", "-p", "no:cacheprovider")


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
def test_invalid_config_property_fails_when_a_bound_is_not_enforced(fuzz_project: pytest.Pytester) -> None:
    fuzz_project.makeconftest(PROFILE.format(max_examples=3000) + LOWER_BOUND_NOT_ENFORCED)
    result = run_property(fuzz_project, "test_invalid_config_is_rejected_naming_its_key")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*accepted a config that breaks models.random_forest.n_estimators*"])


@pytest.mark.slow
def test_twin_training_property_fails_when_the_folds_ignore_the_seed(
    fuzz_project: pytest.Pytester, repro_settings: ReproSettings
) -> None:
    fuzz_project.makeconftest(PROFILE.format(max_examples=100))
    fuzz_project.makepyfile(seedless_training=SEEDLESS_TRAINING)
    fuzz_project.makeini(
        f"""
        [pytest]
        repro_train = seedless_training:train_for_repro
        repro_config = {repro_settings.config_path}
        """
    )
    result = run_property(fuzz_project, "test_twin_trainings_of_any_valid_config_are_identical")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*runs run-a and run-b differ*", "*folds differ*"])


FAKE_TRAINING = """
from pathlib import Path


def train(config_path, output_dir, seed=None):
    model = Path(output_dir) / "model.txt"
    model.write_text(f"seed {seed}\\n")
    return {"artifacts": {"model": str(model)}, "folds": [[0, 1]], "metrics": {"seed": seed}}
"""

GIVEN_TESTS = """
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.repro
@settings(max_examples=3, database=None)
@given(seed=st.integers(0, 9))
def test_marked(repro_run, seed):
    assert repro_run(seed=seed).metrics == {"seed": seed}


@settings(max_examples=3, database=None)
@given(seed=st.integers(0, 9))
def test_unmarked(repro_run, seed):
    assert repro_run(seed=seed).metrics == {"seed": seed}
"""


def test_repro_marker_lets_a_given_test_use_function_scoped_fixtures(
    pytester: pytest.Pytester, inner_session: None
) -> None:
    pytester.makepyfile(fake_training=FAKE_TRAINING, test_given=GIVEN_TESTS)
    pytester.makefile(".yaml", config="seed: 0\n")
    pytester.syspathinsert()
    pytester.makeini(
        """
        [pytest]
        repro_train = fake_training:train
        repro_isolation = inprocess
        """
    )
    result = pytester.runpytest("test_given.py", "--repro", "-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["PASSED test_given.py::test_marked*"])
    # Without the marker, hypothesis's own check stops the same test.
    result.stdout.fnmatch_lines(["*uses a function-scoped fixture 'repro_run'*"])
