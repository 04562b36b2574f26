"""The demo refuses unseeded randomness and a CSV without a header row, each with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from checkout import ROOT
from small_project import write_small_project

from pytest_repro.errors import DatasetError

DATASET = "ml_datasource.csv"


# The parts are built when a test runs: collecting this module must not import scikit-learn.
def _parts(name: str) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "kfold-unseeded": {"cv": KFold(5, shuffle=True)},
        "random-state-instance": {
            "cv": StratifiedKFold(5, shuffle=True, random_state=np.random.RandomState(0))
        },
        "estimator-in-a-pipeline": {"pipe": make_pipeline(StandardScaler(), LogisticRegression())},
        # A shuffling splitter held as a parameter has no get_params: it is found by its attributes.
        "splitter-held-as-a-parameter": {
            "search": GridSearchCV(
                LogisticRegression(random_state=0), {"C": [1.0]}, cv=KFold(3, shuffle=True)
            )
        },
        "no-shuffle": {"cv": KFold(5)},
        "seeded": {"cv": KFold(5, shuffle=True, random_state=7)},
        "numpy-integer-seed": {"cv": StratifiedKFold(5, shuffle=True, random_state=np.int64(7))},
    }[name]


@pytest.mark.parametrize(
    ("name", "paths"),
    [
        ("kfold-unseeded", "cv__random_state"),
        ("random-state-instance", "cv__random_state"),
        ("estimator-in-a-pipeline", "pipe__logisticregression__random_state"),
        ("splitter-held-as-a-parameter", "search__cv__random_state"),
    ],
    ids=[
        "kfold-unseeded",
        "random-state-instance",
        "estimator-in-a-pipeline",
        "splitter-held-as-a-parameter",
    ],
)
def test_unseeded_randomness_is_refused_naming_its_path(name: str, paths: str):
    from training.fit import UnseededError, refuse_unseeded

    with pytest.raises(UnseededError, match=f"unseeded random_state: {paths}$"):
        refuse_unseeded(**_parts(name))


@pytest.mark.parametrize("name", ["no-shuffle", "seeded", "numpy-integer-seed"])
def test_seeded_or_unshuffled_splitters_are_accepted(name: str):
    from training.fit import refuse_unseeded

    refuse_unseeded(**_parts(name))


def test_a_csv_without_a_header_row_is_one_line_naming_its_first_values():
    from training.data import load_dataset

    data = (ROOT / DATASET).read_bytes().split(b"\n", 1)[1]
    with pytest.raises(DatasetError) as raised:
        load_dataset(data, DATASET, "purchased")
    assert raised.value.lines() == [
        f"{DATASET}: no header line; the first line holds values ('GB', '274', '20.5', '1', ...), "
        "expected column names such as student_country, days_on_platform, minutes_watched, courses_started, "
        "practice_exams_started, practice_exams_passed, minutes_spent_on_exams, purchased"
    ]


# A user edits the pipeline's splitter and forgets its seed.
_UNSEEDED_SPLITTER = """\
import training.fit
from sklearn.model_selection import StratifiedKFold

training.fit.StratifiedKFold = lambda n_splits, shuffle, random_state: StratifiedKFold(n_splits, shuffle=True)
from training.cli import train_main

raise SystemExit(train_main(["--quiet"]))
"""


@pytest.mark.slow
def test_python_m_training_refuses_an_unseeded_splitter_before_any_fit(tmp_path: Path):
    project = write_small_project(tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRO_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", _UNSEEDED_SPLITTER],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == "error: refusing to train or save an unseeded random_state: cv__random_state\n"
    assert not (project / "artifacts" / "lineage.json").exists()
