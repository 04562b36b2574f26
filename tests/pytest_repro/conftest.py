"""Helpers that write small example projects for the plugin's end-to-end tests.

An example project is a pytester folder holding a `pyproject.toml` whose
`[tool.pytest.ini_options]` configure pytest-repro, a `config.yaml`, and a tiny
training module (5 trees on 90 synthetic rows).  Each knob of `training_source`
replaces one expression of the deterministic training, so a test plants exactly
one kind of non-determinism and nothing else.
"""

from __future__ import annotations

import gc
import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

import pytest

MODULE = "tinytrain"
SEEDED_FOREST = "RandomForestClassifier(n_estimators=5, max_depth=4, random_state=seed)"
SEEDED_FOLDS = "StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)"
CONFIG = {"seed": 3, "n_samples": 90}
# Loaded before the first in-process run (see `_heavy_modules_loaded`); the hypothesis
# module is the one its pytest plugin imports in every terminal summary.
PRELOADED = (
    "numpy",
    "pandas",
    "joblib",
    "yaml",
    "sklearn.datasets",
    "sklearn.ensemble",
    "sklearn.model_selection",
    "hypothesis.internal.observability",
    "pytest_repro.diagnose.compare",
    "pytest_repro.running.twins",
    "pytest_repro.lineage.manifest",
)

_TRAINING = Template('''\
"""A tiny training for pytest-repro's behaviour tests: 5 trees on a few synthetic rows."""

import json
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import yaml
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import KFold, StratifiedKFold

COLUMNS = ["age", "income", "tenure", "visits", "spend", "region"]


def train(config_path, output_dir, seed=None, overrides=None):
    config = yaml.safe_load(Path(config_path).read_text())
    seed = config["seed"] if seed is None else seed
    out = Path(output_dir)
    $before
    X, y = make_classification(n_samples=config["n_samples"], n_features=len(COLUMNS), random_state=0)
    X = pd.DataFrame(X, columns=COLUMNS)[$feature_order]
    folds = [sorted(test.tolist()) for _, test in $splitter.split(X, y)]
    model = $model.fit(X, y)
    joblib.dump(model, out / "model.joblib")
    threshold = $threshold
    (out / "threshold.txt").write_text(f"{threshold!r}\\n")
    metrics = {"accuracy": float(model.score(X, y)), "seed": seed, **$extra_metrics}
    lineage = write_lineage(config_path, out, X, y, seed, folds) if $lineage else None
    return {
        "artifacts": {"model": "model.joblib", "threshold": "threshold.txt"},
        "folds": folds,
        "metrics": metrics,
        "lineage": lineage,
    }


def write_lineage(config_path, out, X, y, seed, folds):
    """Write a manifest with the plugin's public lineage API, as a user's training does."""
    from pytest_repro.lineage import write_lineage as write

    X.assign(target=y).to_csv(out / "data.csv", index=False)
    write(
        out / "lineage.json",
        inputs={"dataset": out / "data.csv", "config": Path(config_path)},
        outputs={"model": out / "model.joblib", "threshold": out / "threshold.txt"},
        seed=seed,
        folds=folds,
        environment={},
        code=None,
    )
    return "lineage.json"
''')


def training_source(
    *,
    model: str = SEEDED_FOREST,
    splitter: str = SEEDED_FOLDS,
    feature_order: str = "COLUMNS",
    threshold: str = "0.5",
    extra_metrics: str = "{}",
    before: str = "pass",
    lineage: bool = False,
) -> str:
    """Return the deterministic example training with the given expressions swapped in."""
    return _TRAINING.substitute(
        model=model,
        splitter=splitter,
        feature_order=feature_order,
        threshold=threshold,
        extra_metrics=extra_metrics,
        before=before,
        lineage=lineage,
    )


def toml_value(value: Any) -> str:
    """Render a str or a list of str as TOML (JSON's quoting is valid TOML for these)."""
    return json.dumps(value)


class Example:
    """One example project inside a pytester folder."""

    def __init__(self, pytester: pytest.Pytester):
        self.pytester = pytester
        self.path: Path = pytester.path

    def write(
        self,
        source: str | None = None,
        *,
        ini: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        isolation: str | None = "inprocess",
        module: str = MODULE,
        function: str = "train",
        **knobs: Any,
    ) -> Example:
        """Write pyproject.toml, config.yaml and the training module; `ini` adds or replaces settings.

        The module is `source`, or else `training_source(**knobs)`; the config file is
        `config` (default `CONFIG`).  `isolation=None` leaves the plugin's default (two
        subprocesses with different hash seeds).
        """
        settings: dict[str, Any] = {
            "repro_train": f"{module}:{function}",
            "repro_artifacts": ["model", "threshold"],
            # The seed-sensitivity probe has its own tests (test_variations.py); here it
            # would add one item to every outcome count.
            "repro_seed_sensitivity": "off",
        }
        if isolation is not None:
            settings["repro_isolation"] = isolation
        settings.update(ini or {})
        lines = ["[tool.pytest.ini_options]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
        self.pytester.makefile(".toml", pyproject="\n".join(lines) + "\n")
        config_path = self.path / settings.get("repro_config", "config.yaml")
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(
            "".join(f"{key}: {value}\n" for key, value in (CONFIG if config is None else config).items())
        )
        (self.path / f"{module}.py").write_text(source if source is not None else training_source(**knobs))
        return self

    def run(self, *args: str) -> pytest.RunResult:
        """Run pytest in this process (the twins themselves follow the example's isolation)."""
        return self.pytester.runpytest("-p", "no:cacheprovider", *args)

    def run_subprocess(self, *args: str) -> pytest.RunResult:
        """Run pytest in a fresh interpreter (for xdist, and to keep this process's state out of it)."""
        return self.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


@pytest.fixture(scope="session")
def _heavy_modules_loaded() -> None:
    """Import the training stack once, before any in-process run.

    pytester restores `sys.modules` after each in-process run; numpy and scikit-learn
    must not be dropped and imported a second time, so they are loaded here first.
    Freezing them out of the garbage collector's view matters too: every in-process
    run ends with several full collections, which otherwise walk all of scikit-learn.
    """
    for name in PRELOADED:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()


@pytest.fixture
def example(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, _heavy_modules_loaded: None
) -> Example:
    """An empty example project; call `.write(...)` to fill it in."""
    # When this suite itself runs under xdist, the inner sessions must not believe they are workers.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    return Example(pytester)
