"""The harness knobs: REPRO_N_JOBS reaches the estimators, REPRO_ROW_ORDER_SEED reorders the rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pytest_repro.errors import ConfigError
from training.config import load_config
from training.harness import n_jobs, reorder_rows, row_order_seed
from training.models import build_estimators

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.yaml"


def test_unset_knobs_change_nothing():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})

    assert n_jobs({}) == 1
    assert row_order_seed({}) is None
    assert reorder_rows(frame, None) is frame


def test_row_order_seed_shuffles_rows_and_keeps_their_row_numbers():
    frame = pd.DataFrame({"x": [float(i) for i in range(20)]})

    shuffled = reorder_rows(frame, row_order_seed({"REPRO_ROW_ORDER_SEED": "1"}))

    assert list(shuffled.index) != list(range(20))
    assert sorted(shuffled.index) == list(range(20))
    assert (shuffled["x"] == shuffled.index.astype(float)).all()
    assert list(reorder_rows(frame, 1).index) == list(shuffled.index)


def test_repro_n_jobs_reaches_every_estimator_that_takes_n_jobs(monkeypatch):
    monkeypatch.setenv("REPRO_N_JOBS", "2")

    estimators = build_estimators(load_config(CONFIG_PATH))

    assert estimators["random_forest"].n_jobs == 2
    assert estimators["knn"].n_jobs == 2


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("REPRO_N_JOBS", "0", "a positive integer or -1"),
        ("REPRO_N_JOBS", "two", "a positive integer or -1"),
        ("REPRO_ROW_ORDER_SEED", "-3", "an integer in [0, 2**32 - 1]"),
    ],
)
def test_bad_knob_names_the_variable_and_what_is_allowed(variable, value, allowed):
    read = n_jobs if variable == "REPRO_N_JOBS" else row_order_seed

    with pytest.raises(ConfigError) as caught:
        read({variable: value})

    assert str(caught.value).startswith(f"<environment>: {variable}: got {value!r}; expected {allowed}")
