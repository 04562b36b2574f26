"""A training with one planted bug that twin runs cannot see, for the HTML report's example.

The "signup hour" feature is the hour of a fixed timestamp read in the *local* time
zone, so both twins (same machine, same TZ) agree, and `repro-vary`'s `tz` variation
changes the model.  Everything else is seeded from the config.
"""

from __future__ import annotations

import time
from pathlib import Path

import joblib
import numpy as np
import yaml
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

SIGNUP_EPOCH = 1_700_000_000


def train(config_path: str, output_dir: str, seed: int | None = None) -> dict:
    config = yaml.safe_load(Path(config_path).read_text())
    seed = config["seed"] if seed is None else seed
    features, target = make_classification(n_samples=config["n_samples"], n_features=6, random_state=0)
    signups = SIGNUP_EPOCH + np.arange(len(target)) * 3_517
    # The bug: localtime depends on TZ. (time.gmtime would be the same everywhere.)
    hours = np.array([time.localtime(int(stamp)).tm_hour for stamp in signups])
    features = np.column_stack([features, hours + target * (hours % 3)])
    train_x, test_x, train_y, test_y = train_test_split(features, target, test_size=0.3, random_state=seed)
    model = RandomForestClassifier(n_estimators=config["n_estimators"], max_depth=5, random_state=seed)
    model.fit(train_x, train_y)
    scores = model.predict_proba(test_x)[:, 1]
    metrics = {
        "accuracy": float(accuracy_score(test_y, model.predict(test_x))),
        "roc_auc": float(roc_auc_score(test_y, scores)),
        "mean_score": float(scores.mean()),
    }
    out = Path(output_dir)
    joblib.dump(model, out / "model.joblib")
    return {"artifacts": {"model": "model.joblib"}, "folds": None, "metrics": metrics}
