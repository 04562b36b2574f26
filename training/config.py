"""The demo's config.yaml: every key, type and bound declared once, and the loader that checks them.

Each section is a frozen dataclass whose fields carry their rule (`pytest_repro.core.schema`),
so the validator and the hypothesis strategies (`pytest_repro.strategies`) read the same
declaration.  A config is validated once, before any data is read, and every problem is
reported at once, one line each, naming the file, the dotted key, the value and what is
allowed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from pytest_repro.core import Rule, leaf, parse_yaml_bytes, read_config_bytes, section, validate
from pytest_repro.lineage import sha256_bytes

SEED_MAX = 2**32 - 1  # the largest seed numpy's legacy generator takes
_FILE_NAME = Rule(
    "str", pattern=re.compile(r"^[A-Za-z0-9._-]+$"), pattern_text="a plain file name (letters, digits, . _ -)"
)


def _count(low: int, high: int) -> Rule:
    return Rule("int", low=low, high=high)


def _positive(high: float) -> Rule:
    return Rule("float", low=0.0, high=high, low_open=True)


# Upper bounds exist so that a typo (4000000 trees, C=1e300) fails in a second, not an hour.
@dataclass(frozen=True)
class DataConfig:
    path: str = leaf(Rule("str"), "CSV file, relative to the config file's folder")
    target: str = leaf(Rule("str"), "name of the binary target column")
    test_size: float = leaf(
        Rule("float", low=0.0, high=1.0, low_open=True, high_open=True),
        "fraction of rows held out for the test split",
    )


@dataclass(frozen=True)
class EngagementConfig:
    minutes_watched_weight: float = leaf(Rule("float", low=0.0, high=1e6), "weight of minutes_watched")
    days_on_platform_weight: float = leaf(Rule("float", low=0.0, high=1e6), "weight of days_on_platform")
    courses_started_weight: float = leaf(Rule("float", low=0.0, high=1e6), "weight of courses_started")


@dataclass(frozen=True)
class FeaturesConfig:
    # Not merely positive: below about 1e-305 a ratio with a zero denominator overflows to infinity.
    epsilon: float = leaf(Rule("float", low=1e-12, high=1.0), "added to denominators of ratio features")
    engagement: EngagementConfig = section(EngagementConfig, "weights of the engagement score")


@dataclass(frozen=True)
class PreprocessingConfig:
    outlier_factor: float = leaf(_positive(100.0), "IQR multiple for clipping: [Q1 - f·IQR, Q3 + f·IQR]")
    numeric_imputer: str = leaf(
        Rule("str", choices=("mean", "median", "most_frequent", "constant")),
        "SimpleImputer strategy for numbers",
    )
    categorical_imputer: str = leaf(
        Rule("str", choices=("most_frequent", "constant")), "SimpleImputer strategy for categories"
    )


@dataclass(frozen=True)
class LogisticRegressionConfig:
    max_iter: int = leaf(_count(1, 1_000_000), "solver iterations")


@dataclass(frozen=True)
class KnnConfig:
    n_neighbors: int = leaf(_count(1, 10_000), "neighbours that vote")


@dataclass(frozen=True)
class SvmConfig:
    C: float = leaf(_positive(1e4), "inverse regularisation strength")
    kernel: str = leaf(Rule("str", choices=("linear", "poly", "rbf", "sigmoid")), "SVC kernel")
    gamma: float | str = leaf(
        Rule("float", low=0.0, high=1e6, low_open=True, keywords=("scale", "auto")), "kernel coefficient"
    )


@dataclass(frozen=True)
class DecisionTreeConfig:
    max_depth: int | None = leaf(Rule("int", low=1, high=10_000, nullable=True), "depth limit, null for none")
    min_samples_leaf: int = leaf(_count(1, 100_000), "smallest leaf")


@dataclass(frozen=True)
class RandomForestConfig:
    n_estimators: int = leaf(_count(1, 10_000), "trees in the forest")
    min_samples_leaf: int = leaf(_count(1, 100_000), "smallest leaf")


@dataclass(frozen=True)
class ModelsConfig:
    """Candidate models; any may be left out, at least one must stay."""

    logistic_regression: LogisticRegressionConfig | None = section(
        LogisticRegressionConfig, "LogisticRegression", optional=True
    )
    knn: KnnConfig | None = section(KnnConfig, "KNeighborsClassifier", optional=True)
    svm: SvmConfig | None = section(SvmConfig, "SVC", optional=True)
    decision_tree: DecisionTreeConfig | None = section(
        DecisionTreeConfig, "DecisionTreeClassifier", optional=True
    )
    random_forest: RandomForestConfig | None = section(
        RandomForestConfig, "RandomForestClassifier", optional=True
    )

    def present(self) -> dict[str, Any]:
        """Return the configured models by name, in the fixed order used to break ties."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class CvConfig:
    n_splits: int = leaf(_count(2, 100), "StratifiedKFold folds")


@dataclass(frozen=True)
class BusinessConfig:
    target_precision: float = leaf(
        Rule("float", low=0.0, high=1.0, low_open=True), "precision the decision threshold must reach"
    )


@dataclass(frozen=True)
class ArtifactsConfig:
    model_dir: str = leaf(
        Rule(
            "str",
            pattern=re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]+$"),
            pattern_text="a relative folder without '..'",
        ),
        "output folder, relative to the config file's folder",
    )
    model_file: str = leaf(_FILE_NAME, "the fitted Pipeline (joblib)")
    threshold_file: str = leaf(_FILE_NAME, "the decision threshold (text)")
    metrics_file: str = leaf(_FILE_NAME, "CV and test metrics (JSON)")
    drift_baseline_file: str = leaf(_FILE_NAME, "training feature statistics (JSON)")
    lineage_file: str = leaf(_FILE_NAME, "hashes of inputs and outputs (JSON), written last")

    def output_names(self) -> dict[str, str]:
        """Return the artifact file names by lineage entry name (lineage itself excluded)."""
        return {entry: getattr(self, key) for entry, key in ARTIFACT_KEYS.items() if entry != "lineage"}


# Each lineage entry the demo writes, and the key of `artifacts` that names its file.
ARTIFACT_KEYS = {
    "model": "model_file",
    "threshold": "threshold_file",
    "metrics": "metrics_file",
    "drift_baseline": "drift_baseline_file",
    "lineage": "lineage_file",
}


@dataclass(frozen=True)
class Config:
    """A validated training configuration."""

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


def load_config_with_digest(path: str | Path) -> tuple[Config, str]:
    """Read `path` once; return the validated configuration and the SHA-256 of the very bytes parsed."""
    data = read_config_bytes(Path(path))
    return validate_config(parse_yaml_bytes(data, str(path)), str(path)), sha256_bytes(data)


def validate_config(raw: Any, file: str = "<config>") -> Config:
    """Validate an already-parsed mapping against the schema and build a Config."""
    return validate(raw, Config, file)


def config_to_dict(config: Config) -> dict[str, Any]:
    """Return the config as plain data, leaving out absent models, for YAML dumps."""
    data = asdict(config)
    data["models"] = {name: params for name, params in data["models"].items() if params is not None}
    return data


def dump_config(config: Config) -> str:
    """Serialise a config as block YAML with the schema's key order."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=False)
