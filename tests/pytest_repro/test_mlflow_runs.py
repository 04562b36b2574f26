"""A script tracked with real MLflow: outputs paired across generated ids, metrics read from the logged run.

The script logs params, metrics and a scikit-learn model into the project's `./mlruns`
file store, which already holds a run its user made by hand.  Its twin runs write the
model under experiment and model ids MLflow generates, so `repro_ignore` pairs them
(`{id}` segments) and sets aside the `MLmodel` keys that name the run or the clock;
`repro_metrics = "mlflow:iris"` reads the metrics the run logged.  Slow: each run
imports mlflow and scikit-learn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import pytest
from tree_snapshot import describe_difference, snapshot

# Looked up, not imported: importing mlflow costs a second, and every session collects this module.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_spec("mlflow") is None or find_spec("sklearn") is None, reason="needs mlflow and sklearn"
    ),
]

TRAIN = """\
import os

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # mlflow 3 keeps a ./mlruns file store only when asked

import mlflow
import mlflow.sklearn
import numpy as np
from sklearn.ensemble import RandomForestClassifier

rng = np.random.default_rng(0)
X = rng.normal(size=(120, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
mlflow.set_tracking_uri("./mlruns")
mlflow.set_experiment("iris")
with mlflow.start_run():
    mlflow.log_params({"n_estimators": 10})
    model = RandomForestClassifier(n_estimators=10, max_depth=3, FOREST).fit(X, y)
    for step, fraction in enumerate((0.5, 1.0)):
        mlflow.log_metric("accuracy", float(model.score(X[: int(120 * fraction)], y[: int(120 * fraction)])), step=step)
    mlflow.sklearn.log_model(
        model, name="model", serialization_format="cloudpickle", pip_requirements=["scikit-learn"]
    )
"""
MLMODEL = "mlruns/*/models/*/artifacts/MLmodel"
IGNORE = [
    "mlruns/{id}/models/{id}/artifacts/**",
    *(
        f"{MLMODEL}:/{key}"
        for key in ("artifact_path", "model_id", "model_uuid", "run_id", "utc_time_created")
    ),
]


def _project(tmp_path, *, seeded: bool, metrics: str = "mlflow:iris"):
    root = tmp_path / "project"
    root.mkdir()
    forest = "random_state=0" if seeded else "n_jobs=1"
    (root / "train.py").write_text(TRAIN.replace("FOREST", forest))
    (root / ".gitignore").write_text("mlruns/\n__pycache__/\n")
    ini = {
        "repro_command": "python train.py",
        "repro_outputs": ["mlruns/*/models/*/artifacts/*"],
        "repro_metrics": metrics,
        "repro_ignore": IGNORE,
    }
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in ini.items())
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n" + lines)
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    # The user trained once by hand: the store already holds a run of experiment iris.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    subprocess.run([sys.executable, "train.py"], cwd=root, check=True, capture_output=True, env=env)
    return root


def _run(root):
    """`pytest --repro` in the project, as its user runs it; pytest's temporary folders outside it."""
    command = ["-m", "pytest", "--repro", "-p", "no:cacheprovider", "-p", "no:randomly", "-m", "repro"]
    command.append(f"--basetemp={root.parent / 'basetemp'}")
    return subprocess.run([sys.executable, *command], cwd=root, capture_output=True, text=True, check=False)


def _lines(result, *patterns):
    """Fail unless the fnmatch patterns match lines of the session's output, in order."""
    pytest.LineMatcher(result.stdout.splitlines()).fnmatch_lines(list(patterns))


def test_an_mlflow_script_passes_with_its_outputs_paired_and_its_logged_metrics(tmp_path):
    root = _project(tmp_path, seeded=True)
    before = snapshot(root)

    result = _run(root)

    assert result.returncode == 0, result.stdout
    _lines(
        result,
        *[
            "artifacts *ignored (declared): mlruns/{id}/models/{id}/artifacts/MLmodel:/artifact_path*",
            "metrics *equal*",
        ],
    )
    assert describe_difference(before, snapshot(root)) == ""


def test_a_planted_unseeded_forest_fails_naming_the_paired_model(tmp_path):
    root = _project(tmp_path, seeded=False)
    before = snapshot(root)

    result = _run(root)

    assert result.returncode == 1, result.stdout
    # MLmodel differs too when the unseeded trees pickle to different sizes (its
    # `model_size_bytes`), and not when they happen to pickle to the same size.
    _lines(result, "artifacts *differs (* of 5 artifacts: *mlruns/{id}/models/{id}/artifacts/model.pkl)")
    assert describe_difference(before, snapshot(root)) == ""


def test_metrics_of_an_experiment_the_script_never_logged_fail_in_one_line(tmp_path):
    root = _project(tmp_path, seeded=True, metrics="mlflow:churn")

    result = _run(root)

    assert result.returncode == 1, result.stdout
    _lines(
        result, *["*repro_metrics 'mlflow:churn': the command logged no MLflow run in experiment 'churn'*"]
    )
