"""The configuration schema: the single home of every key, type and bound.

Each section is a frozen dataclass; each leaf field carries a `Rule` in its metadata.
The validator (`training.config`), the documentation table and the hypothesis
strategies (`pytest_repro.strategies`) all read these classes, so a bound changed
here changes everywhere.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

SEED_MAX = 2**32 - 1
SKLEARN_KERNELS = ("linear", "poly", "rbf", "sigmoid")
NUMERIC_IMPUTERS = ("mean", "median", "most_frequent", "constant")
CATEGORICAL_IMPUTERS = ("most_frequent", "constant")
GAMMA_KEYWORDS = ("scale", "auto")
_FILE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class Rule:
    """What one leaf value may be.

    `kind` is "int", "float" or "str".  Numbers are finite; booleans are never numbers
    and numeric strings are never numbers.  `keywords` lists strings a numeric field
    also accepts (gamma: "scale"), `nullable` allows YAML null.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    nullable: bool = False
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and docs."""
        if self.kind == "str":
            if self.choices:
                text = "one of " + ", ".join(repr(c) for c in self.choices)
            elif self.pattern_text:
                text = self.pattern_text
            else:
                text = "a non-empty string"
        else:
            noun = "an integer" if self.kind == "int" else "a number"
            text = noun + self._range_text()
        if self.keywords:
            text = " or ".join(repr(k) for k in self.keywords) + " or " + text
        if self.nullable:
            text += " or null"
        return text

    def _range_text(self) -> str:
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f" in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        if self.low is not None:
            return f" {'>' if self.low_open else '≥'} {_fmt(self.low)}"
        if self.high is not None:
            return f" {'<' if self.high_open else '≤'} {_fmt(self.high)}"
        return ""

    def problem(self, value: Any) -> str | None:
        """Return why `value` is not allowed, or None when it is."""
        if value is None:
            return None if self.nullable else f"is required, got null; expected {self.allowed()}"
        if self.keywords and isinstance(value, str) and value in self.keywords:
            return None
        if self.kind == "str":
            return self._string_problem(value)
        return self._number_problem(value)

    def _string_problem(self, value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return f"got {_show(value)}; expected {self.allowed()}"
        if self.choices and value not in self.choices:
            return f"got {_show(value)}; expected {self.allowed()}"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"got {_show(value)}; expected {self.allowed()}"
        return None

    def _number_problem(self, value: Any) -> str | None:
        wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
        if self.kind == "int" and isinstance(value, float):
            wrong_type = True
        if wrong_type or (isinstance(value, float) and not math.isfinite(value)):
            return f"got {_show(value)}; expected {self.allowed()}"
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if below or above:
            return f"got {_show(value)}; expected {self.allowed()}"
        return None


def _fmt(number: float) -> str:
    if number == SEED_MAX:
        return "2**32 - 1"
    return str(int(number)) if float(number).is_integer() else repr(number)


def _show(value: Any) -> str:
    """Name a value and its YAML type, so `'5'` (a string) is told apart from `5`."""
    kind = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value))
    if kind is None:
        kind = (
            "mapping"
            if isinstance(value, dict)
            else "list"
            if isinstance(value, list)
            else type(value).__name__
        )
    return f"{short_repr(value)} ({kind})"


_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlevel = 2
_repr.maxlist = 4
_repr.maxdict = 4


def short_repr(value: Any) -> str:
    """Show a value briefly and safely: a YAML alias bomb must not be expanded to print it."""
    return _repr.repr(value)


def leaf(rule: Rule, doc: str) -> Any:
    """Declare a leaf field of a section, with its rule and one line of documentation."""
    return field(metadata={"rule": rule, "doc": doc})


def section(cls: type, doc: str, *, optional: bool = False) -> Any:
    """Declare a nested section; optional sections may be left out (they become None)."""
    return field(metadata={"section": cls, "doc": doc, "optional": optional})


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
        return {
            "model": self.model_file,
            "threshold": self.threshold_file,
            "metrics": self.metrics_file,
            "drift_baseline": self.drift_baseline_file,
        }


@dataclass(frozen=True)
class Config:
    """A validated training configuration."""

    seed: int = leaf(Rule("int", low=0, high=SEED_MAX), "seed of every random step")
    data: DataConfig = section(DataConfig, "the dataset and its split")
    features: FeaturesConfig = section(FeaturesConfig, "derived features")
    preprocessing: PreprocessingConfig = section(PreprocessingConfig, "learned preprocessing")
    models: ModelsConfig = section(ModelsConfig, "candidate models")
    cv: CvConfig = section(CvConfig, "cross-validation")
    business: BusinessConfig = section(BusinessConfig, "the decision threshold's goal")
    artifacts: ArtifactsConfig = section(ArtifactsConfig, "output file names")


@dataclass(frozen=True)
class LeafSpec:
    """A leaf of the schema with its dotted key, as walked by `iter_leaves`."""

    key: str
    rule: Rule
    doc: str
    optional_section: str | None


def iter_leaves(cls: type = Config, prefix: str = "", optional: str | None = None) -> Iterator[LeafSpec]:
    """Yield every leaf of the schema with its dotted key (for docs, tests and strategies)."""
    for f in fields(cls):
        key = f"{prefix}{f.name}"
        if "section" in f.metadata:
            sub_optional = key if f.metadata["optional"] else optional
            yield from iter_leaves(f.metadata["section"], key + ".", sub_optional)
        else:
            yield LeafSpec(key, f.metadata["rule"], f.metadata["doc"], optional)


def optional_sections(cls: type = Config, prefix: str = "") -> list[str]:
    """Return the dotted keys of sections that may be left out (the models)."""
    found = []
    for f in fields(cls):
        if "section" in f.metadata:
            key = f"{prefix}{f.name}"
            if f.metadata["optional"]:
                found.append(key)
            found.extend(optional_sections(f.metadata["section"], key + "."))
    return found
