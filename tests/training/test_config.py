"""The config schema and loader: every key, type and bound, and one clear line per problem."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from demo_config_yaml import config_to_dict, dump_config, validate_config

from pytest_repro.core.config_files import read_yaml
from pytest_repro.core.schema import LeafSpec, Rule, iter_leaves
from pytest_repro.errors import ConfigError
from training.config import SEED_MAX, Config, load_config

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config.yaml"
BASE: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
LEAVES = list(iter_leaves(Config))


def _with(key: str, value: Any, raw: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a copy of the shipped config with the dotted `key` set to `value`."""
    data = copy.deepcopy(BASE if raw is None else raw)
    *sections, name = key.split(".")
    node = data
    for part in sections:
        node = node[part]
    node[name] = value
    return data


def _without(key: str) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    *sections, name = key.split(".")
    node = data
    for part in sections:
        node = node[part]
    del node[name]
    return data


def _rejects(raw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate_config(raw, "config.yaml")
    return caught.value


def _shown(value: Any) -> str:
    return "null" if value is None else repr(value)


def _wrong_types(rule: Rule) -> list[Any]:
    if rule.kind == "str":
        return [5, 1.5, True, ["x"], {"a": 1}]
    values: list[Any] = ["abc", "5", True, False, [1], {"a": 1}, math.nan, math.inf, -math.inf]
    if rule.kind == "int":
        values.append(2.5)
    return values if rule.nullable else [*values, None]


def _out_of_range(rule: Rule) -> list[Any]:
    if rule.kind == "str":
        if rule.choices:
            return ["", "bogus"]
        if rule.pattern is not None:
            return ["", "a b", "/abs", "../up", "a/../../b"] if "/" in rule.pattern.pattern else ["", "a/b"]
        return [""]
    number = int if rule.kind == "int" else float
    values = []
    if rule.low is not None:
        values.append(number(rule.low) if rule.low_open else number(rule.low) - number(1))
    if rule.high is not None:
        values.append(number(rule.high) if rule.high_open else number(rule.high) * 2)
    return values


def _cases(make: Any) -> list[Any]:
    return [
        pytest.param(spec, value, id=f"{spec.key}={_shown(value)}")
        for spec in LEAVES
        for value in make(spec.rule)
    ]


# ---------------------------------------------------------------- the shipped config


def test_shipped_config_validates():
    assert isinstance(load_config(SHIPPED), Config)


def test_shipped_config_has_the_design_values():
    config = load_config(SHIPPED)
    assert config.seed == 42
    assert (config.data.path, config.data.target, config.data.test_size) == (
        "ml_datasource.csv",
        "purchased",
        0.2,
    )
    assert config.features.epsilon == 1e-6
    weights = config.features.engagement
    assert (
        weights.minutes_watched_weight,
        weights.days_on_platform_weight,
        weights.courses_started_weight,
    ) == (
        0.6,
        0.3,
        10.0,
    )
    assert config.preprocessing.outlier_factor == 1.5
    assert (config.preprocessing.numeric_imputer, config.preprocessing.categorical_imputer) == (
        "median",
        "most_frequent",
    )
    models = config.models
    assert list(models.present()) == ["logistic_regression", "knn", "svm", "decision_tree", "random_forest"]
    assert models.logistic_regression.max_iter == 2000
    assert models.knn.n_neighbors == 7
    assert (models.svm.C, models.svm.kernel, models.svm.gamma) == (1.0, "rbf", "scale")
    assert (models.decision_tree.max_depth, models.decision_tree.min_samples_leaf) == (8, 10)
    assert (models.random_forest.n_estimators, models.random_forest.min_samples_leaf) == (400, 2)
    assert config.cv.n_splits == 5
    assert config.business.target_precision == 0.9
    assert config.artifacts.model_dir == "artifacts"
    assert config.artifacts.output_names() == {
        "model": "best_model.joblib",
        "threshold": "threshold.txt",
        "metrics": "metrics.json",
        "drift_baseline": "drift_baseline.json",
    }
    assert config.artifacts.lineage_file == "lineage.json"


def test_schema_walk_covers_every_key_of_the_shipped_config():
    def dotted(node: dict[str, Any], prefix: str = "") -> set[str]:
        keys: set[str] = set()
        for name, value in node.items():
            keys |= dotted(value, f"{prefix}{name}.") if isinstance(value, dict) else {f"{prefix}{name}"}
        return keys

    assert dotted(BASE) == {spec.key for spec in LEAVES}


# ---------------------------------------------------------------- every rule, from the schema


@pytest.mark.parametrize(("spec", "value"), _cases(_wrong_types))
def test_wrong_type_names_the_key_and_the_value(spec: LeafSpec, value: Any):
    error = _rejects(_with(spec.key, value))
    assert error.keys == (spec.key,)
    assert _shown(value) in error.problems[0].message
    assert spec.rule.allowed() in error.problems[0].message


@pytest.mark.parametrize(("spec", "value"), _cases(_out_of_range))
def test_out_of_range_value_names_the_key_and_the_value(spec: LeafSpec, value: Any):
    error = _rejects(_with(spec.key, value))
    assert error.keys == (spec.key,)
    assert _shown(value) in error.problems[0].message


@pytest.mark.parametrize("spec", LEAVES, ids=lambda spec: spec.key)
def test_missing_leaf_is_reported_by_its_dotted_key(spec: LeafSpec):
    error = _rejects(_without(spec.key))
    assert error.keys == (spec.key,)
    assert "missing required key" in str(error)


# ---------------------------------------------------------------- the bounds of the spec

ACCEPTED = [
    ("data.test_size", 0.5),
    ("data.test_size", 0.01),
    ("data.test_size", 0.99),
    ("models.knn.n_neighbors", 1),
    ("models.logistic_regression.max_iter", 1),
    ("models.random_forest.n_estimators", 1),
    ("models.random_forest.min_samples_leaf", 1),
    ("models.decision_tree.min_samples_leaf", 1),
    ("models.decision_tree.max_depth", 1),
    ("models.decision_tree.max_depth", None),
    ("models.svm.C", 1e-9),
    *[("models.svm.kernel", kernel) for kernel in ("linear", "poly", "rbf", "sigmoid")],
    ("models.svm.gamma", "scale"),
    ("models.svm.gamma", "auto"),
    ("models.svm.gamma", 0.1),
    ("models.svm.gamma", 2),
    ("cv.n_splits", 2),
    ("business.target_precision", 1),
    ("business.target_precision", 1.0),
    ("business.target_precision", 0.001),
    ("preprocessing.outlier_factor", 0.001),
    ("features.epsilon", 1e-12),
    ("seed", 0),
    ("seed", SEED_MAX),
    *[("preprocessing.numeric_imputer", s) for s in ("mean", "median", "most_frequent", "constant")],
    *[("preprocessing.categorical_imputer", s) for s in ("most_frequent", "constant")],
]

REJECTED = [
    ("data.test_size", 0),
    ("data.test_size", 0.0),
    ("data.test_size", 1),
    ("data.test_size", 1.0),
    ("data.test_size", -0.2),
    ("models.knn.n_neighbors", 0),
    ("models.logistic_regression.max_iter", 0),
    ("models.random_forest.n_estimators", 0),
    ("models.random_forest.min_samples_leaf", 0),
    ("models.decision_tree.max_depth", 0),
    ("models.svm.C", 0),
    ("models.svm.C", -1.0),
    ("models.svm.kernel", "laplacian"),
    ("models.svm.kernel", "RBF"),
    ("models.svm.gamma", 0),
    ("models.svm.gamma", -0.1),
    ("models.svm.gamma", "Scale"),
    ("models.svm.gamma", "0.1"),
    ("cv.n_splits", 1),
    ("business.target_precision", 0),
    ("business.target_precision", 1.01),
    ("preprocessing.outlier_factor", 0),
    ("features.epsilon", 0),
    ("seed", -1),
    ("seed", 2**32),
    ("preprocessing.numeric_imputer", "mode"),
    ("preprocessing.categorical_imputer", "median"),
    ("preprocessing.categorical_imputer", "mean"),
    *[(spec.key, math.nan) for spec in LEAVES if spec.rule.kind != "str"],
    *[(spec.key, math.inf) for spec in LEAVES if spec.rule.kind != "str"],
]


@pytest.mark.parametrize(("key", "value"), ACCEPTED, ids=[f"{k}={v!r}" for k, v in ACCEPTED])
def test_spec_bound_accepts_value(key: str, value: Any):
    config = validate_config(_with(key, value))
    node: Any = config
    for part in key.split("."):
        node = getattr(node, part)
    assert node == value


@pytest.mark.parametrize(("key", "value"), REJECTED, ids=[f"{k}={v!r}" for k, v in REJECTED])
def test_spec_bound_rejects_value(key: str, value: Any):
    error = _rejects(_with(key, value))
    assert error.keys == (key,)
    assert repr(value) in str(error)


def test_null_max_depth_means_no_depth_limit():
    config = validate_config(_with("models.decision_tree.max_depth", None))
    assert config.models.decision_tree.max_depth is None


def test_yaml_nan_and_infinity_are_rejected(tmp_path: Path):
    text = SHIPPED.read_text(encoding="utf-8").replace("test_size: 0.2", "test_size: .nan")
    text = text.replace("C: 1.0", "C: .inf")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.keys == ("data.test_size", "models.svm.C")


def test_bound_message_says_what_is_allowed():
    error = _rejects(_with("seed", 2**32))
    assert str(error) == "config.yaml: seed: got 4294967296 (integer); expected an integer in [0, 2**32 - 1]"


def test_numeric_string_is_told_apart_from_a_number():
    error = _rejects(_with("models.random_forest.n_estimators", "5"))
    assert "'5' (string)" in str(error)


# ---------------------------------------------------------------- keys and sections


def test_unknown_key_suggests_nearest_name():
    raw = _with("models.random_forest.n_estimator", 400)
    error = _rejects(raw)
    assert error.keys == ("models.random_forest.n_estimator",)
    assert "did you mean 'n_estimators'" in str(error)


def test_unknown_key_without_near_miss_lists_allowed_names():
    error = _rejects(_with("zzz", 1))
    assert error.keys == ("zzz",)
    assert "allowed: seed, data, features" in str(error)


def test_missing_section_is_reported():
    error = _rejects(_without("cv"))
    assert error.keys == ("cv",)
    assert "missing required key" in str(error)


def test_section_that_is_not_a_mapping_is_reported():
    error = _rejects(_with("data", [1, 2]))
    assert error.keys == ("data",)
    assert "expected a mapping" in str(error)


def test_all_errors_are_reported_together_one_per_line():
    raw = _with("seed", -1)
    raw = _with("data.test_size", 0, raw)
    raw = _with("models.svm.kernel", "laplacian", raw)
    raw = _with("models.knn.n_neighbour", 3, raw)
    del raw["cv"]["n_splits"]
    error = _rejects(raw)
    assert set(error.keys) == {
        "seed",
        "data.test_size",
        "models.svm.kernel",
        "models.knn.n_neighbour",
        "cv.n_splits",
    }
    lines = str(error).splitlines()
    assert len(lines) == 5
    assert all(line.startswith("config.yaml: ") for line in lines)
    assert lines == [str(problem) for problem in error.problems]


@pytest.mark.parametrize("model", ["logistic_regression", "knn", "svm", "decision_tree", "random_forest"])
def test_a_model_can_be_left_out(model: str):
    config = validate_config(_without(f"models.{model}"))
    assert getattr(config.models, model) is None
    assert model not in config.models.present()
    assert len(config.models.present()) == 4


def test_a_single_model_is_enough():
    raw = copy.deepcopy(BASE)
    raw["models"] = {"knn": {"n_neighbors": 3}}
    assert list(validate_config(raw).models.present()) == ["knn"]


def test_removing_all_models_is_an_error_naming_models():
    raw = _with("models", {})
    error = _rejects(raw)
    assert error.keys == ("models",)
    assert "at least one model is required" in str(error)


def test_null_models_section_is_an_error_naming_models():
    error = _rejects(_with("models", None))
    assert error.keys == ("models",)


# ---------------------------------------------------------------- reading YAML


def _load_text(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path):
    error = _load_text(tmp_path, "seed: 42\ndata:\n  path: a: b\n")
    assert str(error) == (
        f"{tmp_path / 'config.yaml'}: YAML syntax error at line 3, column 10: mapping values are not allowed here"
    )


def test_duplicate_key_is_rejected_with_its_dotted_key_and_line(tmp_path: Path):
    error = _load_text(tmp_path, "seed: 1\ndata:\n  path: a\n  path: b\n")
    assert str(error) == f"{tmp_path / 'config.yaml'}: data.path: duplicate key 'path' at line 4, column 3"


def test_an_integer_too_long_to_read_names_its_dotted_key(tmp_path: Path):
    error = _load_text(tmp_path, "seed: 1\nmodels:\n  svm:\n    C: " + "9" * 4301 + "\n")
    assert str(error) == (
        f"{tmp_path / 'config.yaml'}: models.svm.C: an integer of 4301 digits (at most 4300 are read) "
        "at line 4, column 8"
    )


def test_duplicate_top_level_key_is_rejected(tmp_path: Path):
    error = _load_text(tmp_path, "seed: 1\nseed: 2\n")
    assert "duplicate key 'seed'" in str(error)


def test_top_level_list_is_rejected(tmp_path: Path):
    error = _load_text(tmp_path, "- seed\n- data\n")
    assert "top level must be a mapping of sections, got a list" in str(error)


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_empty_file_is_rejected(tmp_path: Path, text: str):
    error = _load_text(tmp_path, text)
    assert "got an empty file" in str(error)


def _billion_laughs(levels: int = 9, width: int = 9) -> list[str]:
    lines = ["lol0: &lol0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * width) + "]")
    return lines


def test_alias_bomb_is_rejected_before_expanding(tmp_path: Path):
    # Fully expanded this is 9**9 strings (gigabytes): the loader stops counting aliases first.
    error = _load_text(tmp_path, "\n".join(_billion_laughs()) + "\n")
    assert "aliases (a YAML alias bomb?)" in str(error)
    assert len(str(error).splitlines()) == 1


def test_a_few_aliases_are_allowed_and_shown_briefly(tmp_path: Path):
    lines = _billion_laughs(levels=3, width=3)
    text = SHIPPED.read_text(encoding="utf-8").replace("seed: 42", "\n".join(lines) + "\nseed: *lol2")
    text = text.replace("  n_neighbors: 7", "  n_neighbors: *lol2")
    error = _load_text(tmp_path, text)
    assert {"seed", "models.knn.n_neighbors"} <= set(error.keys)
    assert all(len(line) < 600 for line in str(error).splitlines())


def test_merge_key_bomb_is_rejected(tmp_path: Path):
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(9)) + "}"]
    for level in range(1, 9):
        lines.append(f"m{level}: &m{level} {{<<: [" + ", ".join([f"*m{level - 1}"] * 9) + "]}")
    error = _load_text(tmp_path, "\n".join(lines) + "\n")
    assert "aliases (a YAML alias bomb?)" in str(error)


def test_merge_keys_are_expanded_then_validated(tmp_path: Path):
    text = (
        SHIPPED.read_text(encoding="utf-8")
        .replace(
            "  decision_tree:\n    max_depth: 8\n    min_samples_leaf: 10",
            "  decision_tree: &tree\n    max_depth: 8\n    min_samples_leaf: 10",
        )
        .replace(
            "  random_forest:\n    n_estimators: 400\n    min_samples_leaf: 2",
            "  random_forest:\n    <<: *tree\n    n_estimators: 400",
        )
    )
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    error = _load_text(tmp_path, text)
    assert error is not None and error.keys == ("models.random_forest.max_depth",)


def test_exponent_without_a_dot_is_a_number(tmp_path: Path):
    text = SHIPPED.read_text(encoding="utf-8").replace("epsilon: 1.0e-06", "epsilon: 1e-6")
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "config.yaml").features.epsilon == 1e-6


def test_missing_config_file_is_one_line(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: config file not found"


def test_folder_as_config_file_is_one_line(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        read_yaml(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a folder, expected a YAML file"


def test_non_utf8_config_is_one_line(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"seed: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(str(caught.value).splitlines()) == 1
    assert "not UTF-8" in str(caught.value)


# ---------------------------------------------------------------- writing it back


def test_dump_round_trips_to_an_equal_config():
    config = load_config(SHIPPED)
    assert validate_config(yaml.safe_load(dump_config(config))) == config


def test_dump_round_trips_with_models_left_out_and_null_depth():
    raw = _without("models.svm")
    raw = _with("models.decision_tree.max_depth", None, raw)
    config = validate_config(raw)
    dumped = yaml.safe_load(dump_config(config))
    assert "svm" not in dumped["models"]
    assert validate_config(dumped) == config


def test_config_to_dict_matches_the_shipped_file():
    assert config_to_dict(load_config(SHIPPED)) == BASE


def test_dump_keeps_the_schema_key_order():
    dumped = yaml.safe_load(dump_config(load_config(SHIPPED)))
    assert list(dumped) == [
        "seed",
        "data",
        "features",
        "preprocessing",
        "models",
        "cv",
        "business",
        "artifacts",
    ]
