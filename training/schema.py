"""The demo's configuration schema: the single home of every key, type and bound of config.yaml.

Each section is a frozen dataclass; each leaf field carries a `Rule` in its metadata,
declared with the plugin's vocabulary (`pytest_repro.schema`).  The validator
(`training.config`, through `pytest_repro.schema.validate`) and the hypothesis
strategies (`training.strategies`, through `pytest_repro.strategies`) all read these
classes, so a bound changed here changes everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from pytest_repro.contract import SEED_MAX
from pytest_repro.schema import Rule, leaf, section

SKLEARN_KERNELS = ("linear", "poly", "rbf", "sigmoid")
NUMERIC_IMPUTERS = ("mean", "median", "most_frequent", "constant")
CATEGORICAL_IMPUTERS = ("most_frequent", "constant")
GAMMA_KEYWORDS = ("scale", "auto")
_FILE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def _count(low: int, high: int) -> Rule:
    return Rule("int", low=low, high=high)


def _positive(high: float) -> Rule:
    return Rule("float", low=0.0, high=high, low_open=True)


def _file_name() -> Rule:
    return Rule("str", pattern=_FILE_NAME, pattern_text="a plain file name (letters, digits, . _ -)")


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
    numeric_imputer: str = leaf(Rule("str", choices=NUMERIC_IMPUTERS), "SimpleImputer strategy for numbers")
    categorical_imputer: str = leaf(
        Rule("str", choices=CATEGORICAL_IMPUTERS), "SimpleImputer strategy for categories"
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
    kernel: str = leaf(Rule("str", choices=SKLEARN_KERNELS), "SVC kernel")
    gamma: float | str = leaf(
        Rule("float", low=0.0, high=1e6, low_open=True, keywords=GAMMA_KEYWORDS),
        "kernel coefficient",
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
        Rule("float", low=0.0, high=1.0, low_open=True),
        "precision the decision threshold must reach",
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
    model_file: str = leaf(_file_name(), "the fitted Pipeline (joblib)")
    threshold_file: str = leaf(_file_name(), "the decision threshold (text)")
    metrics_file: str = leaf(_file_name(), "CV and test metrics (JSON)")
    drift_baseline_file: str = leaf(_file_name(), "training feature statistics (JSON)")
    lineage_file: str = leaf(_file_name(), "hashes of inputs and outputs (JSON), written last")

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
