"""The plugin's strategies fuzz a foreign project's schema, and hypothesis stays an optional extra.

The schema below is shaped like another team's training settings, not like the demo's:
a seed, a data section with free text, a model with a bounded integer and a choice, an
optional early-stopping section and a loggers section of which at least one must be
configured.  Nothing here imports `training`.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis.errors import InvalidArgument

from pytest_repro.core.schema import Rule, leaf, section, validate
from pytest_repro.errors import ConfigError
from pytest_repro.strategies import invalid_configs, valid_configs, valid_values

FILE = "train.yaml"


@dataclass(frozen=True)
class DataSettings:
    source: str = leaf(Rule("str"), "parquet file of labelled rows")
    test_size: float = leaf(
        Rule("float", low=0.0, high=1.0, low_open=True, high_open=True), "share of rows held out"
    )


@dataclass(frozen=True)
class ModelSettings:
    n_estimators: int = leaf(Rule("int", low=1, high=500), "boosting rounds")
    loss: str = leaf(Rule("str", choices=("log_loss", "exponential")), "loss to minimise")
    learning_rate: float | str = leaf(
        Rule("float", low=0.0, high=1.0, low_open=True, keywords=("auto",)), "shrinkage per round"
    )


@dataclass(frozen=True)
class EarlyStopping:
    patience: int = leaf(Rule("int", low=1, high=50), "rounds without improvement before stopping")
    min_delta: float | None = leaf(Rule("float", low=0.0, nullable=True), "smallest improvement")


@dataclass(frozen=True)
class CsvLogger:
    folder: str = leaf(Rule("str"), "where the metrics CSV goes")


@dataclass(frozen=True)
class TensorboardLogger:
    flush_secs: int = leaf(Rule("int", low=1, high=3600), "seconds between flushes")


@dataclass(frozen=True)
class Loggers:
    csv: CsvLogger | None = section(CsvLogger, "metrics as CSV", optional=True)
    tensorboard: TensorboardLogger | None = section(TensorboardLogger, "TensorBoard events", optional=True)


@dataclass(frozen=True)
class TrainSettings:
    seed: int = leaf(Rule("int", low=0, high=2**31 - 1), "seed of every random step")
    data: DataSettings = section(DataSettings, "the dataset")
    model: ModelSettings = section(ModelSettings, "the gradient-boosted model")
    early_stopping: EarlyStopping | None = section(EarlyStopping, "stop when no better", optional=True)
    loggers: Loggers = section(Loggers, "where metrics go", at_least_one="logger")


TEXT = {"data.source": "rows.parquet", "loggers.csv.folder": "metrics"}


@given(raw=valid_configs(TrainSettings, fixed=TEXT))
def test_every_valid_config_of_a_foreign_schema_validates(raw: dict[str, Any]) -> None:
    settings = validate(raw, TrainSettings, FILE)
    assert settings.data.source == "rows.parquet"
    assert 1 <= settings.model.n_estimators <= 500
    assert (settings.early_stopping is None) == ("early_stopping" not in raw)
    assert settings.loggers.csv is not None or settings.loggers.tensorboard is not None


@given(case=invalid_configs(TrainSettings, fixed=TEXT))
def test_every_invalid_config_of_a_foreign_schema_is_rejected_naming_its_key(
    case: tuple[dict[str, Any], str],
) -> None:
    raw, key = case
    try:
        validate(raw, TrainSettings, FILE)
    except ConfigError as exc:
        assert exc.keys == (key,), f"the error names {list(exc.keys)}, not {key}:\n{exc}"
        assert all(problem.file == FILE for problem in exc.problems)
    else:
        raise AssertionError(f"validate accepted a config that breaks {key}")


@given(
    raw=valid_configs(
        TrainSettings,
        fixed=TEXT,
        bounds={"model.n_estimators": (None, 3), "data.test_size": (-1.0, 0.5)},
        sections=["loggers.tensorboard"],
    )
)
def test_bounds_narrow_and_sections_limit_what_appears(raw: dict[str, Any]) -> None:
    assert raw["model"]["n_estimators"] <= 3
    assert 0.0 < raw["data"]["test_size"] <= 0.5
    assert "early_stopping" not in raw
    assert list(raw["loggers"]) == ["tensorboard"]


@given(rounds=valid_values(TrainSettings, "model.n_estimators", high=3))
def test_valid_values_draws_one_narrowed_leaf(rounds: int) -> None:
    assert rounds in (1, 2, 3)


def test_free_text_that_is_not_fixed_is_named() -> None:
    with pytest.raises(InvalidArgument, match=r"in `fixed`: data\.source, loggers\.csv\.folder"):
        valid_configs(TrainSettings)


def test_free_text_of_a_section_that_never_appears_needs_no_value() -> None:
    valid_configs(TrainSettings, fixed={"data.source": "rows.parquet"}, sections=["loggers.tensorboard"])


@pytest.mark.parametrize(
    "arguments",
    [
        {"sections": []},  # no logger may appear, yet one is required
        {"sections": ["loggers"]},  # not an optional section
        {"bounds": {"model.loss": (0, 1)}},  # not a number
        {"bounds": {"model.n_estimators": (501, None)}},  # beyond the rule
        {"fixed": {**TEXT, "model.n_estimators": 0}},  # not allowed by the rule
        {"fixed": {**TEXT, "model.depth": 3}},  # not a key
    ],
)
def test_impossible_arguments_are_rejected(arguments: dict[str, Any]) -> None:
    arguments.setdefault("fixed", TEXT)
    with pytest.raises(InvalidArgument):
        invalid_configs(TrainSettings, **arguments)


def test_a_schema_that_is_not_a_dataclass_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="root dataclass"):
        valid_configs(dict)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


# `None` in sys.modules makes an import fail as if the package were not installed.
WITHOUT_HYPOTHESIS = "import sys; sys.modules['hypothesis'] = None\n"


def test_strategies_without_hypothesis_say_how_to_install_it() -> None:
    result = _python(WITHOUT_HYPOTHESIS + "import pytest_repro.strategies")
    assert result.returncode == 1
    assert 'pip install "pytest-repro[hypothesis]"' in result.stderr.splitlines()[-1]


SCHEMA_ONLY = """
import sys
from dataclasses import dataclass

from pytest_repro.core.schema import Rule, leaf, validate


@dataclass(frozen=True)
class Settings:
    seed: int = leaf(Rule("int", low=0), "seed")


assert validate({"seed": 3}, Settings).seed == 3
print(sorted({name.split(".")[0] for name in sys.modules} & {"hypothesis", "pytest", "yaml"}))
"""


def test_schema_and_validation_import_neither_hypothesis_nor_pytest() -> None:
    result = _python(SCHEMA_ONLY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
