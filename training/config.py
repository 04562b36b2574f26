"""The demo's config.yaml: each key, type and bound declared once (`pytest_repro.core.schema`), and its loader."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core import Rule, leaf, parse_yaml_bytes, read_config_bytes, section, validate
from pytest_repro.errors import ConfigError, Problem
from pytest_repro.lineage import sha256_bytes

SEED_MAX = 2**32 - 1  # the largest seed numpy's legacy generator takes
# Upper bounds exist so that a typo (4000000 trees, C=1e300) fails in a second, not an hour.
_WEIGHT = Rule("float", low=0.0, high=1e6)
_SHARE = Rule("float", low=0.0, high=1.0, low_open=True)
_COUNT = Rule("int", low=1, high=10_000)
_LEAF_SIZE = Rule("int", low=1, high=100_000)
_FRACTION = Rule("float", low=0.0, high=1.0, low_open=True, high_open=True)
_NAME, _DIR = re.compile(r"^[A-Za-z0-9._-]+$"), re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]+$")
_FILE = Rule("str", pattern=_NAME, pattern_text="a plain file name (letters, digits, . _ -)")
_FOLDER = Rule("str", pattern=_DIR, pattern_text="a relative folder without '..'")
# The lineage entries the demo writes; `artifacts.<entry>_file` names each one's file.
OUTPUTS = ("model", "threshold", "metrics", "drift_baseline")


def _model(cls: type, doc: str) -> Any:
    return section(cls, doc, optional=True)


@dataclass(frozen=True)
class DataConfig:
    path: str = leaf(Rule("str"), "CSV file, relative to the config file's folder")
    target: str = leaf(Rule("str"), "name of the binary target column")
    test_size: float = leaf(_FRACTION, "fraction held out for the test split")


@dataclass(frozen=True)
class EngagementConfig:
    minutes_watched_weight: float = leaf(_WEIGHT, "weight of minutes_watched")
    days_on_platform_weight: float = leaf(_WEIGHT, "weight of days_on_platform")
    courses_started_weight: float = leaf(_WEIGHT, "weight of courses_started")


@dataclass(frozen=True)
class FeaturesConfig:
    # Not merely positive: below about 1e-305 a ratio with a zero denominator overflows to infinity.
    epsilon: float = leaf(Rule("float", low=1e-12, high=1.0), "added to denominators of ratio features")
    engagement: EngagementConfig = section(EngagementConfig, "weights of the engagement score")


@dataclass(frozen=True)
class PreprocessingConfig:
    outlier_factor: float = leaf(
        Rule("float", low=0.0, high=100.0, low_open=True), "f: clip to [Q1 - f·IQR, Q3 + f·IQR]"
    )
    numeric_imputer: str = leaf(
        Rule("str", choices=("mean", "median", "most_frequent", "constant")), "for numbers"
    )
    categorical_imputer: str = leaf(Rule("str", choices=("most_frequent", "constant")), "for categories")


@dataclass(frozen=True)
class LogisticConfig:
    max_iter: int = leaf(Rule("int", low=1, high=1_000_000), "solver iterations")


@dataclass(frozen=True)
class KnnConfig:
    n_neighbors: int = leaf(_COUNT, "neighbours that vote")


@dataclass(frozen=True)
class SvmConfig:
    C: float = leaf(Rule("float", low=0.0, high=1e4, low_open=True), "inverse regularisation strength")
    kernel: str = leaf(Rule("str", choices=("linear", "poly", "rbf", "sigmoid")), "SVC kernel")
    gamma: float | str = leaf(
        Rule("float", low=0.0, high=1e6, low_open=True, keywords=("scale", "auto")), "kernel coefficient"
    )


@dataclass(frozen=True)
class DecisionTreeConfig:
    max_depth: int | None = leaf(Rule("int", low=1, high=10_000, nullable=True), "depth limit, null for none")
    min_samples_leaf: int = leaf(_LEAF_SIZE, "smallest leaf")


@dataclass(frozen=True)
class RandomForestConfig:
    n_estimators: int = leaf(_COUNT, "trees in the forest")
    min_samples_leaf: int = leaf(_LEAF_SIZE, "smallest leaf")


@dataclass(frozen=True)
class ModelsConfig:
    logistic_regression: LogisticConfig | None = _model(LogisticConfig, "LogisticRegression")
    knn: KnnConfig | None = _model(KnnConfig, "KNeighborsClassifier")
    svm: SvmConfig | None = _model(SvmConfig, "SVC")
    decision_tree: DecisionTreeConfig | None = _model(DecisionTreeConfig, "DecisionTreeClassifier")
    random_forest: RandomForestConfig | None = _model(RandomForestConfig, "RandomForestClassifier")

    def present(self) -> dict[str, Any]:
        """Return the configured models by name, in the fixed order used to break ties."""
        return {name: model for name, model in vars(self).items() if model is not None}


@dataclass(frozen=True)
class CvConfig:
    n_splits: int = leaf(Rule("int", low=2, high=100), "StratifiedKFold folds")


@dataclass(frozen=True)
class BusinessConfig:
    target_precision: float = leaf(_SHARE, "precision the threshold must reach")


@dataclass(frozen=True)
class ArtifactsConfig:
    model_dir: str = leaf(_FOLDER, "output folder, relative to the config file's folder")
    model_file: str = leaf(_FILE, "the fitted Pipeline (joblib)")
    threshold_file: str = leaf(_FILE, "the decision threshold (text)")
    metrics_file: str = leaf(_FILE, "CV and test metrics (JSON)")
    drift_baseline_file: str = leaf(_FILE, "training feature statistics (JSON)")
    lineage_file: str = leaf(_FILE, "hashes of inputs and outputs (JSON), written last")

    def output_names(self) -> dict[str, str]:
        """Return the artifact file names by lineage entry, the lineage itself left out."""
        return {entry: getattr(self, f"{entry}_file") for entry in OUTPUTS}


@dataclass(frozen=True)
class Config:
    seed: int = leaf(Rule("int", low=0, high=SEED_MAX), "seed of every random step")
    data: DataConfig = section(DataConfig, "the dataset and its split")
    features: FeaturesConfig = section(FeaturesConfig, "derived features")
    preprocessing: PreprocessingConfig = section(PreprocessingConfig, "learned preprocessing")
    models: ModelsConfig = section(ModelsConfig, "candidate models", at_least_one="model")
    cv: CvConfig = section(CvConfig, "cross-validation")
    business: BusinessConfig = section(BusinessConfig, "the decision threshold's goal")
    artifacts: ArtifactsConfig = section(ArtifactsConfig, "output file names")


def load_config(path: str | Path) -> Config:
    """Read `path` and return the validated configuration, or raise ConfigError listing every problem."""
    return load_config_with_digest(path)[0]


def load_config_with_digest(
    path: str | Path, seed: int | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[Config, str]:
    """Read `path` once; return the config (seed and `a.b.c` overrides applied) and the bytes' SHA-256."""
    data = read_config_bytes(Path(path))
    raw = parse_yaml_bytes(data, str(path))
    config = validate(raw, Config, str(path))
    changes = {**(overrides or {}), **({} if seed is None else {"seed": seed})}
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError([Problem("<overrides>", dotted, f"{part} is not a section")])
        if value is None and parents == ["models"]:  # an override `models.<name>: None` leaves it out
            node.pop(key, None)
        else:
            node[key] = value
    if changes:
        config = validate(raw, Config, f"{path} (with overrides)")
    return config, sha256_bytes(data)


def env_int(variable: str, default: int, low: int, high: int = SEED_MAX) -> int:
    """Read a non-negative integer a harness (pytest-repro's variations) may set, or raise ConfigError."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not (text.isdigit() and low <= int(text) <= high):
        problem = Problem("<environment>", variable, f"got {text!r}; expected an integer in [{low}, {high}]")
        raise ConfigError([problem])
    return int(text)
