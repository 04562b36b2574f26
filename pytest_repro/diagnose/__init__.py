"""Explain how two training runs differ: compare their artifacts, folds and metrics, and say what changed.

Each artifact is diagnosed by what its files hold, whatever its name: a pickle or
joblib file is loaded and its fitted objects are walked attribute by attribute (the
model walk, which needs the ``pytest-repro[sklearn]`` extra and otherwise falls
back to bytes; LightGBM, XGBoost and CatBoost boosters inside it are compared tree by
tree through their own dumps), a saved LightGBM/XGBoost/CatBoost model file tree by
tree, a tensor archive (``.npz``, safetensors, a PyTorch ``state_dict``) tensor by
tensor, JSON leaf by leaf by JSON pointer, a text holding one number by its value,
and anything else byte by byte.  What cannot be seen into is never called equal.  Every diagnosis returns None
when the runs agree and otherwise a ``Difference``: a summary naming the artifact
and detail lines with the statistics of the difference.  Nothing here imports
numpy, joblib or scikit-learn until a model is actually loaded.
"""

from __future__ import annotations

from pytest_repro.diagnose.bytes_diff import diff_bytes
from pytest_repro.diagnose.compare import (
    MissingArtifact,
    assert_runs_identical,
    compare_artifact,
    compare_every_artifact,
    compare_folds,
    compare_metrics,
    compare_runs,
)
from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.folds_diff import diff_folds
from pytest_repro.diagnose.json_diff import diff_json_files, diff_metrics
from pytest_repro.diagnose.model_diff import diff_models
from pytest_repro.diagnose.model_files import diff_model_files
from pytest_repro.diagnose.number_diff import diff_number, diff_number_files

__all__ = [
    "Difference",
    "MissingArtifact",
    "assert_runs_identical",
    "compare_artifact",
    "compare_every_artifact",
    "compare_folds",
    "compare_metrics",
    "compare_runs",
    "diff_bytes",
    "diff_folds",
    "diff_json_files",
    "diff_metrics",
    "diff_model_files",
    "diff_models",
    "diff_number",
    "diff_number_files",
]
