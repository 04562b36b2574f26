"""A stranger's repository that uses pytest-repro: its own `training/` package, its own tests, its own pyproject.

It is shaped like a small real project, not like this one: a churn classifier in a
`training` package (the same top-level name as this repository's demo, on purpose),
a smoke test, a README and a pyproject whose only pytest-repro setting is the entry
point.  The training is a small scikit-learn forest on generated data with fixed
seeds, so its twin runs give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

ENTRY_POINT = "training.train:train_for_repro"
N_SAMPLES = 200

FILES = {
    "README.md": """\
# churn-model

Trains the churn classifier: `python -m training.train artifacts/`.
`pytest` runs the tests; `pytest --repro` trains twice and compares the runs.
""",
    ".gitignore": "artifacts/\n__pycache__/\n.pytest_cache/\n",
    "pyproject.toml": f"""\
[project]
name = "churn-model"
version = "0.3.0"
requires-python = ">=3.10"
dependencies = ["scikit-learn"]

[project.optional-dependencies]
test = ["pytest", "pytest-repro"]

[tool.pytest.ini_options]
testpaths = ["tests"]
repro_train = "{ENTRY_POINT}"
""",
    "training/__init__.py": '"""Training of the churn classifier."""\n',
    "training/train.py": f'''\
"""Fit the churn classifier on generated data; save the model and its cross-validated metrics."""

import json
import sys
from pathlib import Path

import joblib
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

SEED = 7
N_SAMPLES = {N_SAMPLES}


def fit(output_dir, seed=SEED):
    """Train into output_dir; return the test rows of each fold and the metrics."""
    X, y = make_classification(n_samples=N_SAMPLES, n_features=8, random_state=0)
    splitter = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    folds = [sorted(test.tolist()) for _, test in splitter.split(X, y)]
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=seed)
    scores = cross_val_score(model, X, y, cv=splitter)
    model.fit(X, y)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out / "model.joblib")
    metrics = {{"cv_accuracy": round(float(scores.mean()), 6)}}
    (out / "metrics.json").write_text(json.dumps(metrics, sort_keys=True) + "\\n")
    return folds, metrics


def train_for_repro(config_path, output_dir, seed=None):
    """The pytest-repro entry point: train into output_dir and say what was written."""
    folds, metrics = fit(output_dir, SEED if seed is None else seed)
    return {{
        "artifacts": {{"model": "model.joblib", "metrics": "metrics.json"}},
        "folds": folds,
        "metrics": metrics,
    }}


if __name__ == "__main__":
    fit(sys.argv[1] if len(sys.argv) > 1 else "artifacts")
''',
    "tests/test_smoke.py": f"""\
import json

from training.train import fit


def test_fit_writes_the_model_and_its_metrics(tmp_path):
    folds, metrics = fit(tmp_path)

    assert (tmp_path / "model.joblib").is_file()
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert sorted(row for fold in folds for row in fold) == list(range({N_SAMPLES}))
""",
}


def write_foreign_project(root: Path, *, config: str | None = None) -> Path:
    """Write the stranger's repository at `root` (and `config.yaml` when given); return `root`."""
    files = dict(FILES)
    if config is not None:
        files["config.yaml"] = config
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
