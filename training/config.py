"""The demo's config.yaml: each key, type and bound declared once (`pytest_repro.core.schema`), and its loader."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pytest_repro.core import Rule, leaf, parse_yaml_bytes, read_config_bytes, section, validate
from pytest_repro.errors import ConfigError, Problem
from pytest_repro.lineage import sha256_bytes

SEED_MAX = 2**32 - 1  # the largest seed numpy's legacy generator takes
_FILE_NAME = Rule(
    "str", pattern=re.compile(r"^[A-Za-z0-9._-]+$"), pattern_text="a plain file name (letters, digits, . _ -)"
)
_FOLDER = Rule(
    "str",
    pattern=re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]+$"),
    pattern_text="a relative folder without '..'",
)


def _int(low: int, high: int, **more: Any) -> Rule:
    return Rule("int", low=low, high=high, **more)


def _float(low: float, high: float, **more: Any) -> Rule:
    return Rule("float", low=low, high=high, **more)


def _model(cls: type, doc: str) -> Any:
    return section(cls, doc, optional=True)


# Upper bounds exist so that a typo (4000000 trees, C=1e300) fails in a second, not an hour.
@dataclass(frozen=True)
class DataConfig:
    path: str = leaf(Rule("str"), "CSV file, relative to the config file's folder")
    target: str = leaf(Rule("str"), "name of the binary target column")
    test_size: float = leaf(
        _float(0.0, 1.0, low_open=True, high_open=True), "fraction held out for the test split"
    )


@dataclass(frozen=True)
class EngagementConfig:
    minutes_watched_weight: float = leaf(_float(0.0, 1e6), "weight of minutes_watched")
    days_on_platform_weight: float = leaf(_float(0.0, 1e6), "weight of days_on_platform")
    courses_started_weight: float = leaf(_float(0.0, 1e6), "weight of courses_started")


@dataclass(frozen=True)
class FeaturesConfig:
    # Not merely positive: below about 1e-305 a ratio with a zero denominator overflows to infinity.
    epsilon: float = leaf(_float(1e-12, 1.0), "added to denominators of ratio features")
    engagement: EngagementConfig = section(EngagementConfig, "weights of the engagement score")


@dataclass(frozen=True)
class PreprocessingConfig:
    outlier_factor: float = leaf(_float(0.0, 100.0, low_open=True), "f: clip to [Q1 - f·IQR, Q3 + f·IQR]")
    numeric_imputer: str = leaf(
        Rule("str", choices=("mean", "median", "most_frequent", "constant")), "for numbers"
    )
    categorical_imputer: str = leaf(Rule("str", choices=("most_frequent", "constant")), "for categories")


# Each model's keys are its scikit-learn estimator's parameter names.
@dataclass(frozen=True)
class LogisticRegressionConfig:
    max_iter: int = leaf(_int(1, 1_000_000), "solver iterations")


@dataclass(frozen=True)
class KnnConfig:
    n_neighbors: int = leaf(_int(1, 10_000), "neighbours that vote")


@dataclass(frozen=True)
class SvmConfig:
    C: float = leaf(_float(0.0, 1e4, low_open=True), "inverse regularisation strength")
    kernel: str = leaf(Rule("str", choices=("linear", "poly", "rbf", "sigmoid")), "SVC kernel")
    gamma: float | str = leaf(
        _float(0.0, 1e6, low_open=True, keywords=("scale", "auto")), "kernel coefficient"
    )


@dataclass(frozen=True)
class DecisionTreeConfig:
    max_depth: int | None = leaf(_int(1, 10_000, nullable=True), "depth limit, null for none")
    min_samples_leaf: int = leaf(_int(1, 100_000), "smallest leaf")


@dataclass(frozen=True)
class RandomForestConfig:
    n_estimators: int = leaf(_int(1, 10_000), "trees in the forest")
    min_samples_leaf: int = leaf(_int(1, 100_000), "smallest leaf")


@dataclass(frozen=True)
class ModelsConfig:
    """Candidate models; any may be left out, at least one must stay."""

    logistic_regression: LogisticRegressionConfig | None = _model(
        LogisticRegressionConfig, "LogisticRegression"
    )
    knn: KnnConfig | None = _model(KnnConfig, "KNeighborsClassifier")
    svm: SvmConfig | None = _model(SvmConfig, "SVC")
    decision_tree: DecisionTreeConfig | None = _model(DecisionTreeConfig, "DecisionTreeClassifier")
    random_forest: RandomForestConfig | None = _model(RandomForestConfig, "RandomForestClassifier")

    def present(self) -> dict[str, Any]:
        """Return the configured models by name, in the fixed order used to break ties."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class CvConfig:
    n_splits: int = leaf(_int(2, 100), "StratifiedKFold folds")


@dataclass(frozen=True)
class BusinessConfig:
    target_precision: float = leaf(_float(0.0, 1.0, low_open=True), "precision the threshold must reach")


# The lineage entries the demo writes; `artifacts.<entry>_file` names each one's file.
OUTPUTS = ("model", "threshold", "metrics", "drift_baseline")


@dataclass(frozen=True)
class ArtifactsConfig:
    model_dir: str = leaf(_FOLDER, "output folder, relative to the config file's folder")
    model_file: str = leaf(_FILE_NAME, "the fitted Pipeline (joblib)")
    threshold_file: str = leaf(_FILE_NAME, "the decision threshold (text)")
    metrics_file: str = leaf(_FILE_NAME, "CV and test metrics (JSON)")
    drift_baseline_file: str = leaf(_FILE_NAME, "training feature statistics (JSON)")
    lineage_file: str = leaf(_FILE_NAME, "hashes of inputs and outputs (JSON), written last")

    def output_names(self) -> dict[str, str]:
        """Return the artifact file names by lineage entry, the lineage itself left out."""
        return {entry: getattr(self, f"{entry}_file") for entry in OUTPUTS}


@dataclass(frozen=True)
class Config:
    """A validated training configuration."""

    seed: int = leaf(_int(0, SEED_MAX), "seed of every random step")
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
    """Read `path` once; return the config (seed and `a.b.c` overrides applied) and the bytes' SHA-256.

    An override `models.<name>: None` leaves that model out.
    """
    data = read_config_bytes(Path(path))
    raw = parse_yaml_bytes(data, str(path))
    config = validate(raw, Config, str(path))
    if seed is not None or overrides:
        for dotted, value in {**(overrides or {}), **({} if seed is None else {"seed": seed})}.items():
            *parents, key = dotted.split(".")
            node = raw
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise ConfigError([Problem("<overrides>", dotted, f"{part} is not a section")])
            if value is None and parents == ["models"]:
                node.pop(key, None)
            else:
                node[key] = value
        config = validate(raw, Config, f"{path} (with overrides)")
    return config, sha256_bytes(data)


def env_int(variable: str, default: int, low: int, high: int = SEED_MAX) -> int:
    """Read a non-negative integer a harness (pytest-repro's variations) may set, or raise ConfigError."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not (text.isdigit() and low <= int(text) <= high):
        raise ConfigError(
            [Problem("<environment>", variable, f"got {text!r}; expected an integer in [{low}, {high}]")]
        )
    return int(text)
