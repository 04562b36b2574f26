"""A training with two planted reproducibility bugs, for the README's failure example.

1. The forest gets no random_state, so each run grows different trees.
2. The metrics record when training happened.
The folds are seeded properly, so they agree.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import joblib
import yaml
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score


def train(config_path: str, output_dir: str, seed: int | None = None) -> dict:
    config = yaml.safe_load(Path(config_path).read_text())
    seed = config["seed"] if seed is None else seed
    features, target = load_breast_cancer(return_X_y=True)
    splitter = StratifiedKFold(config["n_splits"], shuffle=True, random_state=seed)
    model = RandomForestClassifier(n_estimators=config["n_estimators"])  # bug 1: no random_state
    scores = cross_val_score(model, features, target, cv=splitter, scoring="roc_auc")
    model.fit(features, target)
    out = Path(output_dir)
    joblib.dump(model, out / "model.joblib")
    (out / "threshold.txt").write_text("0.5\n")
    metrics = {"cv_roc_auc": scores.tolist(), "trained_at": time.time()}  # bug 2: a wall-clock time
    (out / "metrics.json").write_text(json.dumps(metrics, sort_keys=True))
    folds = [sorted(test.tolist()) for _, test in splitter.split(features, target)]
    return {
        "artifacts": {"model": "model.joblib", "threshold": "threshold.txt", "metrics": "metrics.json"},
        "folds": folds,
        "metrics": metrics,
    }
