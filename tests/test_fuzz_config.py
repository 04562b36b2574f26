"""Fuzz the config schema with hypothesis: validation, YAML round trips and reproducible training.

The strategies (`demo_strategies`, the demo's use of `pytest_repro.strategies`)
draw every value from the schema's rules,
so these properties follow the schema as it changes:

1. every valid config validates and survives YAML (`yaml.safe_dump`/`safe_load`,
   `dump_config`/`load_config`) unchanged;
2. every invalid config is rejected with a ConfigError naming the offending key;
3. twin trainings of any valid config (on a 400-row stratified slice of the bundled
   data) give identical artifacts, metrics and folds;
4. another seed gives other folds: the seed is really consumed.

The profile decides how many examples run (`tests/conftest.py`): `dev` locally,
`ci` (derandomized, fewer examples) when the CI variable is set.  Trainings run
`scaled(n)` examples, n at the default 100 examples, proportionally more or fewer
under other profiles.  For a deeper run, e.g. nightly, use the `nightly` profile::

    pytest tests/test_fuzz_config.py --hypothesis-profile nightly

(registered in `tests/conftest.py` as
`settings.register_profile("nightly", max_examples=2000, deadline=None, print_blob=True)`;
2000 examples for the cheap properties, 100 and 80 for the two training properties).
A failure prints the falsifying config; under `ci` and `nightly` it also prints
a `@reproduce_failure(...)` line to paste above the test to replay it exactly.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from demo_config_yaml import config_to_dict, dump_config, validate_config
from demo_strategies import SHIPPED_STRINGS, invalid_configs, valid_configs, valid_values
from hypothesis import assume, given, settings
from hypothesis.errors import InvalidArgument

from pytest_repro.core.run_records import RunRequest
from pytest_repro.diagnose.compare import assert_runs_identical
from pytest_repro.errors import ConfigError
from pytest_repro.lineage.pins import check_dataset_pin, pin_dataset
from pytest_repro.running.launcher import run_inprocess
from pytest_repro.running.twins import train_twins
from pytest_repro.settings.resolved import ReproSettings
from training.config import load_config

FILE = "fuzz.yaml"
SLICE_ROWS = 400
SLICE_NAME = "slice.csv"

# Narrowed so that a training on the slice takes a fraction of a second and cannot fail
# for want of rows (kNN neighbours, stratified folds, both classes in the test split).
# Everything else (seed, weights, epsilon, outlier factor, precision target, tree leaf
# sizes, kernels, which models are present) keeps the schema's full range.
CHEAP = {
    "max_estimators": 4,
    "max_splits": 4,
    "max_iter": 50,
    "max_neighbors": 15,
    "bounds": {
        "data.test_size": (0.1, 0.5),
        "models.svm.C": (None, 10.0),
        "models.svm.gamma": (None, 1.0),
        "models.decision_tree.max_depth": (None, 8),
    },
}


def scaled(examples: int) -> int:
    """Scale an example count written for hypothesis's default 100 by the active profile."""
    return max(1, examples * settings().max_examples // 100)


@dataclass(frozen=True)
class FuzzFolder:
    """A folder holding a pinned slice of the dataset, where each example writes its config."""

    path: Path
    entry: str

    def write_config(self, raw: dict[str, Any]) -> Path:
        """Write `raw` as YAML beside the slice; its relative data.path names the slice."""
        handle, name = tempfile.mkstemp(prefix="config-", suffix=".yaml", dir=self.path)
        with open(handle, "w", encoding="utf-8") as out:
            yaml.safe_dump(raw, out, sort_keys=False)
        return Path(name)

    def new_folder(self) -> Path:
        """Return a fresh, empty folder for one example's runs."""
        return Path(tempfile.mkdtemp(prefix="runs-", dir=self.path))


def write_stratified_slice(source: Path, destination: Path, target: str, rows: int) -> None:
    """Copy `rows` data rows of `source`, in file order, keeping the classes' shares."""
    from sklearn.model_selection import train_test_split

    with source.open(newline="", encoding="utf-8-sig") as handle:
        header, *records = list(csv.reader(handle))
    labels = [record[header.index(target)] for record in records]
    kept, _ = train_test_split(range(len(records)), train_size=rows, stratify=labels, random_state=0)
    with destination.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records[i] for i in sorted(kept))


@pytest.fixture(scope="session")
def fuzz_folder(repro_settings: ReproSettings, tmp_path_factory: pytest.TempPathFactory) -> FuzzFolder:
    """The configured training's dataset, sliced to SLICE_ROWS rows and pinned, once per session."""
    if repro_settings.entry is None:
        pytest.skip("no training entry point: set repro_train in the ini settings")
    config = load_config(repro_settings.config_path)
    source = repro_settings.config_path.parent / config.data.path
    check_dataset_pin(source)  # slice only the data the project pins
    folder = tmp_path_factory.mktemp("fuzz")
    write_stratified_slice(source, folder / SLICE_NAME, config.data.target, SLICE_ROWS)
    pin_dataset(folder / SLICE_NAME)
    return FuzzFolder(folder, repro_settings.entry)


@pytest.fixture(scope="session")
def yaml_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-yaml")


# ------------------------------------------------------------------- 1. valid configs


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
@given(raw=valid_configs())
def test_valid_config_validates_and_survives_yaml(raw: dict[str, Any], yaml_folder: Path) -> None:
    config = validate_config(raw, FILE)
    assert config_to_dict(config) == raw
    assert yaml.safe_load(yaml.safe_dump(raw, sort_keys=False)) == raw
    dumped = dump_config(config)
    assert yaml.safe_load(dumped) == raw
    handle, name = tempfile.mkstemp(suffix=".yaml", dir=yaml_folder)
    with open(handle, "w", encoding="utf-8") as out:
        out.write(dumped)
    assert load_config(name) == config  # through the project's own strict loader


@given(
    raw=valid_configs(
        max_splits=1000,
        bounds={"data.test_size": (-5.0, 5.0), "seed": (None, 3), "models.svm.C": (0.5, None)},
    )
)
def test_narrowing_intersects_with_the_schema_and_never_widens_it(raw: dict[str, Any]) -> None:
    validate_config(raw, FILE)  # -5, 5 and 1000 lie outside the schema: they narrow nothing
    assert raw["seed"] <= 3
    assert "svm" not in raw["models"] or raw["models"]["svm"]["C"] >= 0.5


@pytest.mark.parametrize(
    "arguments",
    [
        {"max_splits": 1},  # n_splits >= 2
        {"bounds": {"data.test_size": (1.0, None)}},  # test_size < 1
        {"bounds": {"data.path": (0, 1)}},  # not a number
        {"bounds": {"data.size": (0, 1)}},  # not a key
        {"models": ["xgboost"]},
        {"fixed": {"cv.n_splits": 1}},
    ],
)
def test_impossible_arguments_are_rejected(arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        valid_configs(**arguments)


def test_shipped_strings_are_those_of_the_shipped_config(repro_settings: ReproSettings) -> None:
    shipped = config_to_dict(load_config(repro_settings.config_path))
    assert {key: shipped[key.split(".")[0]][key.split(".")[1]] for key in SHIPPED_STRINGS} == dict(
        SHIPPED_STRINGS
    )


# ----------------------------------------------------------------- 2. invalid configs


@given(case=invalid_configs())
def test_invalid_config_is_rejected_naming_its_key(case: tuple[dict[str, Any], str]) -> None:
    raw, key = case
    try:
        validate_config(raw, FILE)
    except ConfigError as exc:
        assert key in exc.keys, f"the error names {list(exc.keys)}, not {key}:\n{exc}"
        assert all(problem.file == FILE for problem in exc.problems)
    else:
        raise AssertionError(f"validate_config accepted a config that breaks {key}")


# --------------------------------------------------------------- 3. twin trainings


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter is kept small
@settings(max_examples=scaled(5))
@given(raw=valid_configs(data_path=SLICE_NAME, **CHEAP))
def test_twin_trainings_of_any_valid_config_are_identical(
    raw: dict[str, Any], fuzz_folder: FuzzFolder
) -> None:
    request = RunRequest(fuzz_folder.entry, fuzz_folder.write_config(raw))
    twins = train_twins(request, fuzz_folder.new_folder(), isolation="inprocess")
    assert twins.a.folds, "the training returned no folds"
    assert_runs_identical(twins.a, twins.b)


# ------------------------------------------------------------------------ 4. seeds


@pytest.mark.slow
@settings(max_examples=scaled(4))
@given(
    raw=valid_configs(data_path=SLICE_NAME, models=["decision_tree"], **CHEAP),
    other_seed=valid_values("seed"),
)
def test_another_seed_gives_other_folds(
    raw: dict[str, Any], other_seed: int, fuzz_folder: FuzzFolder
) -> None:
    assume(other_seed != raw["seed"])
    config_path = fuzz_folder.write_config(raw)
    folder = fuzz_folder.new_folder()
    first = run_inprocess(RunRequest(fuzz_folder.entry, config_path), folder / "own-seed", "own seed")
    other = run_inprocess(
        RunRequest(fuzz_folder.entry, config_path, seed=other_seed), folder / "other-seed", "other seed"
    )
    assert first.metrics["seed"] == raw["seed"] and other.metrics["seed"] == other_seed
    assert first.folds != other.folds, f"seeds {raw['seed']} and {other_seed} gave the same folds"
