"""Repositories shaped like the ones pytest-repro is adopted in, each a git repository adopted with ini lines only.

Each builder writes one project under `root`, makes it a git repository with at least
one commit, leaves it as its user would have it (a store, a stale model, a log from an
earlier run by hand) and returns a `RepoProject`.  None holds a test file or a
conftest, so `pytest --repro -p no:cacheprovider` run in it writes nothing of pytest's
own there: whatever changes in the tree was changed by a run.

- `mlflow_script_project`: `train.py` runs at import time and tracks with MLflow in the
  git-ignored default store `./mlruns`, which already holds a run and a registered
  model whose alias `production` the script moves; `pyproject.toml`.
- `ignored_folders_project`: a script that reads `data/raw/`, writes `data/processed/`
  and `models/` and appends to the existing `logs/train.log`, all git-ignored; `pytest.ini`.
- `package_module_project`: `python -m src.models.train --config config.yaml`, whose
  `models/` holds only the tracked, stale `models/churn_model.joblib`, dumped there
  without a mkdir; `setup.cfg`.  Its model is a forest or, optionally, LightGBM.
- `dvc_pipeline_project`: `dvc repro` of a two-stage pipeline over DVC-tracked data
  with a local cache, reproduced once and locked, then one commit of training code
  not reproduced yet; `tox.ini`.
- `hostile_write_project`: a training that patches a large git-ignored file in place.
- `git_checkout_project`: a training that records the checkout it runs in, with an
  uncommitted edit in the user's tree.

`seeded=False` plants the bug every check must catch: the forest loses its
`random_state`.  Builders that run the training (as its user once did) take a `Shell`,
the stranger's environment that `installed_wheel.StrangerVenv` provides.
"""

from __future__ import annotations

import os
import random
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

BIG_FILE_SIZE = 16 * 1024 * 1024 + 4096  # large enough to be shared with a run rather than copied
GIT_TIMEOUT = 60


class Shell(Protocol):
    """Runs a command in a folder, `python` and `dvc` found on its PATH (`StrangerVenv` is one)."""

    def run_command(
        self, *command: str, cwd: Path, timeout: float = ...
    ) -> subprocess.CompletedProcess[str]: ...


@dataclass(frozen=True)
class RepoProject:
    """A built project: its folder, and the output a planted unseeded forest must be named by."""

    root: Path
    model: str  # relative POSIX path of the model output


# --- 1. an MLflow script -----------------------------------------------------------------

MLFLOW_TRAIN = '''\
"""Train the iris classifier and track it with MLflow: params, metrics, the model, the registry alias."""

import json
import os
import pickle

# mlflow 3 refuses a ./mlruns file store unless the project says it keeps one.
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"

import mlflow
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

MODEL_NAME = "iris-classifier"
PARAMS = {"n_estimators": 20, "max_depth": 4}

rows = np.loadtxt("data/raw/iris.csv", delimiter=",", skiprows=1)
X, y = rows[:, :-1], rows[:, -1].astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

# No tracking URI: MLflow's default, the ./mlruns store this project already keeps.
mlflow.set_experiment("iris")
with mlflow.start_run():
    mlflow.log_params(PARAMS)
    model = RandomForestClassifier(**PARAMS, random_state=0).fit(X_train, y_train)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    mlflow.log_metric("accuracy", accuracy)
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        registered_model_name=MODEL_NAME,
        serialization_format="cloudpickle",
        pip_requirements=["scikit-learn"],
    )
MlflowClient().set_registered_model_alias(MODEL_NAME, "production", info.registered_model_version)

os.makedirs("models", exist_ok=True)
with open("models/model.pkl", "wb") as handle:
    pickle.dump(model, handle)
os.makedirs("reports", exist_ok=True)
with open("reports/metrics.json", "w") as handle:
    json.dump({"accuracy": accuracy}, handle, indent=2, sort_keys=True)
    handle.write("\\n")
print(f"accuracy {accuracy:.4f}; {MODEL_NAME} version {info.registered_model_version} is production")
'''

MLFLOW_FILES = {
    "README.md": "# iris-mlflow\n\nTrain with `python train.py`; `mlflow ui` shows the runs in `./mlruns`.\n",
    ".gitignore": "data/\nmlruns/\nmodels/\nreports/\n__pycache__/\n",
    "requirements.txt": "mlflow-skinny\nscikit-learn\nnumpy\n",
    "pyproject.toml": """\
[project]
name = "iris-mlflow"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["mlflow-skinny", "scikit-learn", "numpy"]

[tool.pytest.ini_options]
repro_command = "python train.py"
repro_outputs = ["models/model.pkl", "reports/metrics.json"]
repro_metrics = "reports/metrics.json"
""",
}


def mlflow_script_project(root: Path, shell: Shell, *, seeded: bool = True) -> RepoProject:
    """An MLflow script whose user's `./mlruns` holds a run and model version 1 with alias `production`."""
    _write(root, {**MLFLOW_FILES, "train.py": _forest(MLFLOW_TRAIN, seeded)})
    _write(root, {"data/raw/iris.csv": _iris_csv(rows=300, seed=11)})
    _commit_all(root, "iris classifier tracked with MLflow", init=True)
    # The store was started when MLflow's default was still ./mlruns; since then the
    # default stays ./mlruns because the store exists.
    _check(shell.run_command("env", "MLFLOW_TRACKING_URI=./mlruns", "python", "train.py", cwd=root))
    return RepoProject(root, "models/model.pkl")


# --- 2. a script writing into ignored folders ----------------------------------------------

IGNORED_FOLDERS_TRAIN = '''\
"""Train the churn model from the raw export; features to data/processed/, a line to logs/train.log."""

import csv
import datetime
import os

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier

with open("data/raw/train.csv", newline="") as handle:
    rows = list(csv.DictReader(handle))
tenure = np.array([float(r["tenure"]) for r in rows])
charges = np.array([float(r["monthly_charges"]) for r in rows])
calls = np.array([float(r["support_calls"]) for r in rows])
y = np.array([int(r["churned"]) for r in rows])
features = np.column_stack([tenure, charges, calls, tenure * charges, calls / (tenure + 1)])

os.makedirs("data/processed", exist_ok=True)
np.savetxt(
    "data/processed/features.csv",
    features,
    delimiter=",",
    fmt="%.6f",
    header="tenure,monthly_charges,support_calls,total_charges,calls_per_month",
    comments="",
)

model = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0).fit(features, y)
os.makedirs("models", exist_ok=True)
joblib.dump(model, "models/model.joblib")

os.makedirs("logs", exist_ok=True)
with open("logs/train.log", "a") as log:
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    log.write(f"{stamp} trained on {len(y)} rows, training accuracy {model.score(features, y):.4f}\\n")
'''

IGNORED_FOLDERS_FILES = {
    "README.md": "# churn-script\n\n`python train.py` trains on the export in `data/raw/train.csv`.\n",
    ".gitignore": "data/\nlogs/\nmodels/\n__pycache__/\n",
    "pytest.ini": """\
[pytest]
repro_command = python train.py
repro_outputs = models/model.joblib
""",
}


def ignored_folders_project(root: Path, shell: Shell, *, seeded: bool = True) -> RepoProject:
    """A script that writes `data/processed/`, `logs/` and `models/`, all git-ignored, none of them yet but the log.

    `shell` is unused: nothing here runs the training, but every project builder takes one.
    """
    _write(root, {**IGNORED_FOLDERS_FILES, "train.py": _forest(IGNORED_FOLDERS_TRAIN, seeded)})
    _commit_all(root, "churn training script", init=True)
    # The data export and the log of last month's run; data/processed/ and models/ were cleaned since.
    _write(
        root,
        {
            "data/raw/train.csv": _churn_csv(rows=300, seed=5),
            "logs/train.log": "2024-05-02T09:14:55 trained on 280 rows, training accuracy 0.9464\n",
        },
    )
    return RepoProject(root, "models/model.joblib")


# --- 3. a package trained with python -m -------------------------------------------------------

PACKAGE_LOAD = '''\
"""Load the churn table: features and the target column."""

import csv

import numpy as np


def load_dataset(path, target):
    """Return (X, y) from the CSV at path, y being the column named target."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [name for name in rows[0] if name != target]
    X = np.array([[float(row[name]) for name in columns] for row in rows])
    y = np.array([int(row[target]) for row in rows])
    return X, y
'''

PACKAGE_TRAIN = '''\
"""Train the churn model: python -m src.models.train --config config.yaml."""

import argparse

import joblib
import yaml

from src.data.load import load_dataset


def build_model(config):
    """The estimator the config describes."""
    params = config["model"]
__BUILD__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    with open(args.config) as handle:
        config = yaml.safe_load(handle)
    X, y = load_dataset(config["data"]["path"], config["data"]["target"])
    model = build_model(config).fit(X, y)
    joblib.dump(model, config["output"])
    print(f"trained on {len(y)} rows, wrote {config['output']}")


if __name__ == "__main__":
    main()
'''

BUILD_FOREST = """\
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=params["n_estimators"], max_depth=params["max_depth"], random_state=config["seed"])"""

BUILD_LIGHTGBM = """\
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        random_state=config["seed"],
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )"""

PACKAGE_FILES = {
    "README.md": "# churn-prediction\n\n`python -m src.models.train --config config.yaml`\n",
    ".gitignore": "__pycache__/\n*.pyc\n*.egg-info/\n",
    "config.yaml": """\
seed: 42
data:
  path: data/churn.csv
  target: churned
model:
  n_estimators: 25
  max_depth: 5
output: models/churn_model.joblib
""",
    "setup.cfg": """\
[metadata]
name = churn-prediction
version = 0.2.0

[options]
packages = find:
install_requires =
    joblib
    pyyaml
    scikit-learn

[tool:pytest]
repro_command = python -m src.models.train --config config.yaml
repro_outputs = models/churn_model.joblib
""",
    "src/__init__.py": "",
    "src/data/__init__.py": "",
    "src/data/load.py": PACKAGE_LOAD,
    "src/models/__init__.py": "",
}


def package_module_project(
    root: Path, shell: Shell, *, seeded: bool = True, estimator: str = "forest"
) -> RepoProject:
    """A package run with `python -m`, whose `models/` holds only the committed stale model.

    `estimator` is "forest" or "lightgbm" (which the stranger must have installed).
    """
    build = {"forest": _forest(BUILD_FOREST, seeded), "lightgbm": BUILD_LIGHTGBM}[estimator]
    train = PACKAGE_TRAIN.replace("__BUILD__", build)
    _write(root, {**PACKAGE_FILES, "src/models/train.py": train})
    _write(root, {"data/churn.csv": _churn_csv(rows=300, seed=9)})
    (root / "models").mkdir()  # made once by hand; the training itself never makes it
    _check(shell.run_command("python", "-m", "src.models.train", "--config", "config.yaml", cwd=root))
    _commit_all(root, "churn model, with the model of the last release", init=True)
    return RepoProject(root, "models/churn_model.joblib")


# --- 4. a DVC pipeline ---------------------------------------------------------------

DVC_PREPARE = '''\
"""Stage prepare: the raw iris measurements plus two ratios, to data/processed/features.csv."""

import csv
import os

with open("data/raw/iris.csv", newline="") as handle:
    rows = list(csv.DictReader(handle))
os.makedirs("data/processed", exist_ok=True)
with open("data/processed/features.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    measures = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    writer.writerow([*measures, "petal_ratio", "sepal_ratio", "species"])
    for row in rows:
        values = [float(row[name]) for name in measures]
        ratios = [values[2] / values[3], values[0] / values[1]]
        writer.writerow([*(f"{v:.4f}" for v in values + ratios), row["species"]])
'''

DVC_TRAIN = '''\
"""Stage train: a forest on the features, to models/model.pkl, its cross-validated accuracy to reports/."""

import json
import os
import pickle

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

rows = np.loadtxt("data/processed/features.csv", delimiter=",", skiprows=1)
X, y = rows[:, :-1], rows[:, -1].astype(int)
model = RandomForestClassifier(n_estimators=20, max_depth=__DEPTH__, random_state=0)
scores = cross_val_score(model, X, y, cv=3)
model.fit(X, y)

os.makedirs("models", exist_ok=True)
with open("models/model.pkl", "wb") as handle:
    pickle.dump(model, handle)
os.makedirs("reports", exist_ok=True)
with open("reports/metrics.json", "w") as handle:
    json.dump({"cv_accuracy": float(scores.mean())}, handle, indent=2, sort_keys=True)
    handle.write("\\n")
'''

DVC_FILES = {
    "README.md": "# iris-dvc\n\n`dvc repro` runs prepare and train; `dvc metrics show` prints the accuracy.\n",
    ".gitignore": "__pycache__/\n",
    "requirements.txt": "dvc\nscikit-learn\nnumpy\n",
    "src/prepare.py": DVC_PREPARE,
    "dvc.yaml": """\
stages:
  prepare:
    cmd: python src/prepare.py
    deps:
      - data/raw/iris.csv
      - src/prepare.py
    outs:
      - data/processed/features.csv
  train:
    cmd: python src/train.py
    deps:
      - data/processed/features.csv
      - src/train.py
    outs:
      - models/model.pkl
    metrics:
      - reports/metrics.json:
          cache: false
""",
    "tox.ini": """\
[tox]
envlist = py3

[testenv]
deps = -r requirements.txt
commands = dvc repro

[pytest]
repro_command = dvc repro
repro_outputs = models/model.pkl reports/metrics.json
repro_metrics = reports/metrics.json
""",
}


def dvc_pipeline_project(root: Path, shell: Shell, *, seeded: bool = True) -> RepoProject:
    """A DVC pipeline (prepare -> train) over `dvc add`-ed data, reproduced and locked, then the training edited.

    The last commit deepens the trees (and, with `seeded=False`, drops the forest's
    seed) without a `dvc repro`, as a user does before checking the change: `dvc repro`
    must run the train stage again, writing a new model into the cache.  The run cache
    (`.dvc/cache/runs`) holds only the locked version, so it cannot restore an answer.
    """
    _write(root, {**DVC_FILES, "src/train.py": DVC_TRAIN.replace("__DEPTH__", "3")})
    _git(root, "-c", "init.defaultBranch=main", "init", "-q")
    _check(shell.run_command("dvc", "init", "-q", cwd=root))
    _check(shell.run_command("dvc", "config", "core.analytics", "false", cwd=root))
    _check(shell.run_command("dvc", "config", "core.check_update", "false", cwd=root))
    _write(root, {"data/raw/iris.csv": _iris_csv(rows=300, seed=3)})
    _check(shell.run_command("dvc", "add", "-q", "data/raw/iris.csv", cwd=root))
    _check(shell.run_command("dvc", "repro", "-q", cwd=root))
    _commit_all(root, "iris pipeline: prepare and train, reproduced")
    _write(root, {"src/train.py": _forest(DVC_TRAIN.replace("__DEPTH__", "4"), seeded)})
    _commit_all(root, "train: deeper trees")
    return RepoProject(root, "models/model.pkl")


# --- hostile and inspecting trainings ------------------------------------------------------

HOSTILE_TRAIN = '''\
"""A training that patches its input in place: it opens a git-ignored data file for writing."""

import os

with open("data/raw/big.bin", "r+b") as handle:
    handle.seek(1024)
    handle.write(b"patched by a training run")
os.makedirs("models", exist_ok=True)
with open("models/model.txt", "w") as handle:
    handle.write("a model of data/raw/big.bin\\n")
'''


def hostile_write_project(root: Path) -> RepoProject:
    """A script that writes into `data/raw/big.bin`, git-ignored and larger than 16 MiB."""
    _write(
        root,
        {
            ".gitignore": "data/\nmodels/\n",
            "train.py": HOSTILE_TRAIN,
            "pyproject.toml": """\
[tool.pytest.ini_options]
repro_command = "python train.py"
repro_outputs = ["models/model.txt"]
""",
        },
    )
    _commit_all(root, "training that patches its data", init=True)
    big = root / "data" / "raw" / "big.bin"
    big.parent.mkdir(parents=True)
    pattern = bytes(range(256))
    big.write_bytes(pattern * (BIG_FILE_SIZE // len(pattern)))
    return RepoProject(root, "models/model.txt")


CHECKOUT_RECORD = '''\
"""Record the checkout the training runs in, as setuptools-scm or MLflow's git tags see it."""

import json
import os
import subprocess
import sys
import uuid


def git(*args):
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    return {"stdout": result.stdout, "stderr": result.stderr, "returncode": result.returncode}


record = {
    "head": git("rev-parse", "HEAD"),
    "status": git("status", "--porcelain"),
    "toplevel": git("rev-parse", "--show-toplevel"),
    "cwd": os.path.realpath(os.getcwd()),
}
os.makedirs("reports", exist_ok=True)
with open("reports/checkout.json", "w") as handle:
    json.dump({"head": record["head"]["stdout"], "status": record["status"]["stdout"]}, handle)
# A witness outside the project, for the test to read each run's view.
os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], f"{uuid.uuid4().hex}.json"), "w") as handle:
    json.dump(record, handle)
'''

UNCOMMITTED_EDIT = "\nNext: try a deeper forest.\n"


def git_checkout_project(root: Path, witness: Path) -> RepoProject:
    """A training that records `git rev-parse HEAD` and `git status` into `witness`, with README.md edited.

    The edit to the tracked README.md is not committed, so `git status --porcelain` in
    the user's tree says ` M README.md`.
    """
    _write(
        root,
        {
            "README.md": "# checkout-aware training\n",
            ".gitignore": "reports/\n",
            "record_checkout.py": CHECKOUT_RECORD,
            "pytest.ini": f"""\
[pytest]
repro_command = python record_checkout.py {shlex.quote(str(witness))}
repro_outputs = reports/checkout.json
""",
        },
    )
    _commit_all(root, "record the checkout", init=True)
    with (root / "README.md").open("a", encoding="utf-8") as handle:
        handle.write(UNCOMMITTED_EDIT)
    return RepoProject(root, "reports/checkout.json")


# --- helpers ---------------------------------------------------------------------------


def git_output(root: Path, *args: str) -> str:
    """Return the standard output of `git ARGS` run in `root` (an AssertionError if it fails)."""
    return _git(root, *args).stdout


def _forest(source: str, seeded: bool) -> str:
    """Return `source`, or with `seeded=False` the same with its forest's `random_state=...` removed."""
    if seeded:
        return source
    planted, count = re.subn(r"(RandomForestClassifier\([^()]*?),\s*random_state=[^,()]+\)", r"\1)", source)
    assert count == 1, f"expected one seeded RandomForestClassifier in:\n{source}"
    return planted


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _commit_all(root: Path, message: str, *, init: bool = False) -> None:
    if init:
        _git(root, "-c", "init.defaultBranch=main", "init", "-q")
    _git(root, "add", "-A")
    _git(
        root,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "-q",
        "-m",
        message,
    )


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No GIT_DIR or GIT_INDEX_FILE of a hook that runs these tests may point git elsewhere.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    result = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
    )
    return _check(result)


def _check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        raise AssertionError(
            f"{shlex.join(map(str, result.args))} failed (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def _iris_csv(*, rows: int, seed: int) -> str:
    """Iris-like measurements around three species' centres, the species as 0, 1, 2."""
    generator = random.Random(seed)
    centres = [(5.0, 3.4, 1.5, 0.25), (5.9, 2.8, 4.3, 1.3), (6.6, 3.0, 5.6, 2.0)]
    lines = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    for i in range(rows):
        species = i % 3
        values = [max(0.1, c + generator.gauss(0, 0.45)) for c in centres[species]]
        lines.append(",".join(f"{v:.2f}" for v in values) + f",{species}")
    return "\n".join(lines) + "\n"


def _churn_csv(*, rows: int, seed: int) -> str:
    """Customers with tenure, charges and support calls; churn more likely when short, dear and unhappy."""
    generator = random.Random(seed)
    lines = ["tenure,monthly_charges,support_calls,churned"]
    for _ in range(rows):
        tenure = generator.randint(1, 72)
        charges = round(generator.uniform(20, 120), 2)
        calls = generator.randint(0, 8)
        risk = 0.6 * (charges / 120) + 0.5 * (calls / 8) - 0.7 * (tenure / 72) + generator.gauss(0, 0.2)
        lines.append(f"{tenure},{charges},{calls},{int(risk > 0.2)}")
    return "\n".join(lines) + "\n"
