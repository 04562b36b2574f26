"""Validating a foreign project's config with the plugin's schema vocabulary: one call, every problem."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_repro.core.schema import (
    Rule,
    iter_leaves,
    iter_sections,
    leaf,
    optional_sections,
    section,
    validate,
)
from pytest_repro.errors import ConfigError


@dataclass(frozen=True)
class Optimizer:
    learning_rate: float = leaf(Rule("float", low=0.0, high=1.0, low_open=True), "step size")
    schedule: str = leaf(Rule("str", choices=("constant", "cosine")), "how the step size decays")


@dataclass(frozen=True)
class Wandb:
    project: str = leaf(Rule("str"), "W&B project")


@dataclass(frozen=True)
class Mlflow:
    experiment: str = leaf(Rule("str"), "MLflow experiment")


@dataclass(frozen=True)
class Trackers:
    wandb: Wandb | None = section(Wandb, "Weights & Biases", optional=True)
    mlflow: Mlflow | None = section(Mlflow, "MLflow", optional=True)


@dataclass(frozen=True)
class Run:
    seed: int = leaf(Rule("int", low=0, high=2**31 - 1), "seed")
    epochs: int = leaf(Rule("int", low=1, high=1000), "passes over the data")
    optimizer: Optimizer = section(Optimizer, "the optimiser")
    trackers: Trackers = section(Trackers, "experiment trackers", at_least_one="tracker")


GOOD: dict[str, Any] = {
    "seed": 7,
    "epochs": 10,
    "optimizer": {"learning_rate": 0.01, "schedule": "cosine"},
    "trackers": {"mlflow": {"experiment": "baseline"}},
}


def _rejected(raw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate(raw, Run, "run.yaml")
    return caught.value


def test_a_valid_config_builds_the_frozen_dataclasses():
    run = validate(GOOD, Run, "run.yaml")
    assert run.optimizer == Optimizer(0.01, "cosine")
    assert run.trackers == Trackers(wandb=None, mlflow=Mlflow("baseline"))


def test_every_problem_is_reported_at_once_naming_file_and_key():
    raw = copy.deepcopy(GOOD)
    raw["seed"] = 2**31
    raw["optimizer"]["schedule"] = "linear"
    raw["optimizer"]["learning_rat"] = 0.1
    del raw["epochs"]
    assert str(_rejected(raw)).splitlines() == [
        "run.yaml: seed: got 2147483648 (integer); expected an integer in [0, 2**31 - 1]",
        "run.yaml: epochs: missing required key",
        "run.yaml: optimizer.learning_rat: unknown key (did you mean 'learning_rate'?)",
        "run.yaml: optimizer.schedule: got 'linear' (string); expected one of 'constant', 'cosine'",
    ]


def test_a_section_with_none_of_its_alternatives_names_the_section():
    error = _rejected({**GOOD, "trackers": {}})
    assert str(error) == "run.yaml: trackers: at least one tracker is required (wandb, mlflow)"


def test_top_level_that_is_not_a_mapping_is_one_problem():
    assert str(_rejected(["seed"])) == "run.yaml: top level must be a mapping of sections, got a list"


def test_the_walks_take_the_root_and_give_dotted_keys():
    assert [spec.key for spec in iter_leaves(Run)] == [
        "seed",
        "epochs",
        "optimizer.learning_rate",
        "optimizer.schedule",
        "trackers.wandb.project",
        "trackers.mlflow.experiment",
    ]
    assert optional_sections(Run) == ["trackers.wandb", "trackers.mlflow"]
    trackers = next(spec for spec in iter_sections(Run) if spec.key == "trackers")
    assert (trackers.at_least_one, trackers.alternatives) == ("tracker", ("wandb", "mlflow"))
