"""LightGBM, XGBoost and CatBoost models are compared tree by tree through their own dumps, never assumed equal.

In a pickle (an `LGBMClassifier` inside a Pipeline: its `booster_`) and as the library's
own files (LightGBM's model.txt, XGBoost's .json and .ubj, CatBoost's .json and .cbm).
Before, the walk never entered a booster: two entirely different boosters were
"objects equal", and a model whose trees moved was "the same but for n_jobs".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pytest_repro.core.run_records import RunRecord
from pytest_repro.diagnose import compare_artifact, diff_model_files
from pytest_repro.diagnose.boosters import read_tree_model
from pytest_repro.diagnose.catboost_json import read_catboost_json
from pytest_repro.diagnose.content_kind import ArtifactKind, file_kind
from pytest_repro.diagnose.digests import same_model_except
from pytest_repro.diagnose.model_diff import compare_models
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.variations.seeds import MODEL_INDEPENDENT, USED, seed_sensitivity

RNG = np.random.default_rng(0)
X = RNG.normal(size=(300, 5))
Y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
DAY = 400.0  # the `time` variation's shift, in days


def _shifted(shift: float, column: int = 4) -> np.ndarray:
    """The rows with one feature moved, as an account's age moves with today's date."""
    moved = X.copy()
    moved[:, column] += shift
    return moved


def _lightgbm(seed: int = 0, n_jobs: int = 1, shift: float = 0.0, rows: np.ndarray | None = None, **params):
    """An LGBMClassifier inside a Pipeline, as a project's training fits it."""
    lightgbm = pytest.importorskip("lightgbm")
    from sklearn.pipeline import Pipeline

    booster = lightgbm.LGBMClassifier(n_estimators=12, random_state=seed, n_jobs=n_jobs, verbose=-1, **params)
    return Pipeline([("lgbm", booster)]).fit(_shifted(shift) if rows is None else rows, Y)


def _xgboost(seed: int = 0, n_jobs: int = 1, shift: float = 0.0):
    xgboost = pytest.importorskip("xgboost")
    return xgboost.XGBClassifier(
        n_estimators=6, max_depth=3, subsample=0.7, random_state=seed, n_jobs=n_jobs
    ).fit(_shifted(shift, column=0), Y)


def _record(label: str, path: Path) -> RunRecord:
    return RunRecord(
        label=label,
        output_dir=path.parent,
        artifacts={"model": path},
        hashes={"model": sha256_file(path)},
        folds=None,
        metrics={},
        lineage=None,
        seconds=0.0,
        environment={},
    )


def _compare_files(path_a: Path, path_b: Path):
    return compare_artifact("model", _record("a", path_a), _record("b", path_b))


# ----------------------------------------------------------------------------- LightGBM in a pickle


def test_two_lightgbm_boosters_with_other_trees_are_told_apart_tree_by_tree(dump_pair):
    # The same parameters on slightly other rows: only the trees differ.
    noisy = X + np.random.default_rng(1).normal(scale=0.05, size=X.shape)
    path_a, path_b = dump_pair(_lightgbm(), _lightgbm(rows=noisy), "model.joblib")

    difference = diff_model_files(path_a, path_b, name="model")

    assert difference is not None
    assert "objects equal" not in difference.summary
    assert (
        difference.details[0]
        == "model.named_steps['lgbm'].booster_.trees: 12 of 12 trees differ (12 in shape)"
    )
    assert difference.details[1].startswith("model.named_steps['lgbm'].booster_.trees[0]: ")
    assert "first differing node" in difference.details[1]


def test_a_booster_whose_thresholds_moved_names_tree_node_and_the_largest_change(dump_pair):
    path_a, path_b = dump_pair(_lightgbm(), _lightgbm(shift=DAY), "model.joblib")

    lines = diff_model_files(path_a, path_b, name="model").details

    threshold = next(line for line in lines if ".trees[*].threshold:" in line)
    assert threshold.startswith("model.named_steps['lgbm'].booster_.trees[*].threshold: ")
    assert "max |Δ| 400 " in threshold
    assert "; first at tree " in threshold and " node " in threshold
    assert any(".booster_.feature_infos: 1 of 5 elements differ; first at [4]: " in line for line in lines)


@pytest.fixture(scope="module")
def two_threads():
    """The default LightGBM fitted with n_jobs=2, once: two OpenMP threads are slow on a loaded machine."""
    return _lightgbm(n_jobs=2)


def test_lightgbm_trained_with_two_threads_is_the_same_model_but_for_n_jobs(dump_pair, two_threads):
    path_a, path_b = dump_pair(_lightgbm(n_jobs=1), two_threads, "model.joblib")

    lines = diff_model_files(path_a, path_b, name="model").details

    # n_jobs, as scikit-learn and as LightGBM's own parameter (in the model text and in Python).
    assert list(lines[:3]) == [
        "model.named_steps['lgbm'].get_params()['n_jobs']: 1 != 2",
        "model.named_steps['lgbm'].booster_.parameters['num_threads']: '1' != '2'",
        "model.named_steps['lgbm'].booster_.params['num_threads']: 1 != 2",
    ]
    assert same_model_except(path_a, path_b, ("n_jobs",))
    assert not same_model_except(path_a, path_b, ("random_state",))


def test_lightgbm_whose_date_feature_moved_is_not_the_same_model_but_for_n_jobs(dump_pair):
    # Before: "differs only in n_jobs" (the booster was never compared), so --repro-vary=all passed.
    moved = _lightgbm(shift=DAY).set_params(lgbm__n_jobs=2)  # as the all-at-once run stores it
    path_a, path_b = dump_pair(_lightgbm(n_jobs=1), moved, "model.joblib")

    assert not same_model_except(path_a, path_b, ("n_jobs",))


def test_seed_probe_says_seed_used_when_every_lightgbm_tree_moves_with_the_seed(dump_pair):
    # Bagging draws from the seed. Before: "model seed-independent" (only random_state was seen).
    bagged = {"subsample": 0.7, "subsample_freq": 1}
    path_a, path_b = dump_pair(_lightgbm(seed=42, **bagged), _lightgbm(seed=43, **bagged), "model.joblib")

    found = seed_sensitivity(_record("a", path_a), _record("b", path_b), 42, 43)

    assert found.verdict == USED
    assert found.verdict != MODEL_INDEPENDENT


def test_seed_probe_says_seed_independent_when_lightgbm_ignores_the_seed(dump_pair):
    # Without bagging or feature sampling the seed is recorded (seed, bagging_seed, ...) but draws nothing.
    path_a, path_b = dump_pair(_lightgbm(seed=42), _lightgbm(seed=43), "model.joblib")

    assert same_model_except(path_a, path_b, ("random_state",))


def test_a_seeded_lightgbm_fitted_twice_pickles_identically(dump_pair):
    path_a, path_b = dump_pair(_lightgbm(seed=7), _lightgbm(seed=7), "model.joblib")

    assert path_a.read_bytes() == path_b.read_bytes()
    assert diff_model_files(path_a, path_b, name="model") is None


# ----------------------------------------------------------------------------- the library's own files


def test_lightgbm_model_text_is_compared_tree_by_tree_without_a_pickle(tmp_path):
    for run, shift in (("a", 0.0), ("b", DAY)):
        (tmp_path / run).mkdir()
        _lightgbm(shift=shift).named_steps["lgbm"].booster_.save_model(tmp_path / run / "model.txt")
    path_a, path_b = tmp_path / "a" / "model.txt", tmp_path / "b" / "model.txt"

    difference = _compare_files(path_a, path_b)

    assert file_kind(path_a) is ArtifactKind.TREES
    assert difference.summary.startswith("model.txt differs: ")
    assert difference.summary.endswith(" in the LightGBM model")
    assert any(
        line.startswith("model.trees[*].threshold: ") and "max |Δ| 400 " in line
        for line in difference.details
    )


def test_lightgbm_model_text_that_differs_only_in_num_threads_is_the_same_but_for_n_jobs(
    tmp_path, two_threads
):
    for run, model in (("a", _lightgbm(n_jobs=1)), ("b", two_threads)):
        (tmp_path / run).mkdir()
        model.named_steps["lgbm"].booster_.save_model(tmp_path / run / "model.txt")
    path_a, path_b = tmp_path / "a" / "model.txt", tmp_path / "b" / "model.txt"

    assert _compare_files(path_a, path_b).details[0] == "model.parameters['num_threads']: '1' != '2'"
    assert same_model_except(path_a, path_b, ("n_jobs",))


@pytest.mark.parametrize("suffix", ["json", "ubj"])
def test_xgboost_model_files_are_compared_tree_by_tree(tmp_path, suffix):
    for run, seed in (("a", 0), ("b", 1)):
        (tmp_path / run).mkdir()
        _xgboost(seed=seed).save_model(tmp_path / run / f"model.{suffix}")
    path_a, path_b = tmp_path / "a" / f"model.{suffix}", tmp_path / "b" / f"model.{suffix}"

    difference = _compare_files(path_a, path_b)

    assert file_kind(path_a) is ArtifactKind.TREES
    assert difference.summary.endswith(" in the XGBoost model")
    assert difference.details[0] == "model.trees: 6 of 6 trees differ (6 in shape)"
    assert difference.details[1].startswith("model.trees[0]: ")


def test_an_xgboost_classifier_in_a_pickle_is_walked_into_its_booster(dump_pair):
    path_a, path_b = dump_pair(_xgboost(), _xgboost(shift=DAY), "model.joblib")

    lines = diff_model_files(path_a, path_b, name="model").details

    assert any(line.startswith("model.get_booster().trees[*].threshold: ") for line in lines)
    # The same XGBoost model with n_jobs=2 is the same model but for n_jobs.
    same_a, same_b = dump_pair(_xgboost(n_jobs=1), _xgboost(n_jobs=2), "same.joblib")
    assert same_model_except(same_a, same_b, ("n_jobs",))


def test_catboost_json_is_read_without_catboost_installed():
    def model(border: float, leaves: list[float]) -> dict:
        return {
            "features_info": {"float_features": [{"borders": [border], "feature_index": 0}]},
            "model_info": {"params": {"system_options": {"thread_count": 1}}},
            "oblivious_trees": [
                {
                    "leaf_values": leaves,
                    "leaf_weights": [10, 10],
                    "splits": [{"border": border, "float_feature_index": 0, "split_type": "FloatFeature"}],
                }
            ],
            "scale_and_bias": [1, [0]],
        }

    a, b = read_catboost_json(model(0.5, [0.1, 0.2])), read_catboost_json(model(0.5, [0.1, 0.25]))

    lines = compare_models(a, b, max_paths=8, root="model").lines()

    assert lines == [
        "model.trees: 1 of 1 trees differ (1 in numbers only)",
        "model.trees[*].leaf_value: 1 of 2 differ in the 1 trees of the same shape, max |Δ| 0.05 "
        "(max relative 2.0e-01); first at tree 0 leaf 1: 0.2 != 0.25",
    ]
    assert a.params == {"system_options.thread_count": 1}


def test_catboost_files_are_compared_tree_by_tree_and_say_they_record_a_fresh_id(tmp_path):
    catboost = pytest.importorskip("catboost", reason="CatBoost is optional")
    for run, seed in (("a", 0), ("b", 1)):
        (tmp_path / run).mkdir()
        model = catboost.CatBoostClassifier(
            iterations=4, depth=2, random_seed=seed, verbose=0, thread_count=1, allow_writing_files=False
        ).fit(X, Y)
        model.save_model(str(tmp_path / run / "model.json"), format="json")
        model.save_model(str(tmp_path / run / "model.cbm"))
    for name in ("model.json", "model.cbm"):
        difference = _compare_files(tmp_path / "a" / name, tmp_path / "b" / name)
        assert difference.summary.endswith(" in the CatBoost model")
        assert difference.details[0].startswith("model.trees: ")


# ----------------------------------------------------------------------------- never "equal" unseen


def test_an_object_that_neither_pickles_nor_shows_its_content_is_never_called_equal():
    import threading

    report = compare_models({"guard": threading.Lock()}, {"guard": threading.Lock()}, max_paths=8)

    assert report.count == 1
    assert report.paths[0].startswith("model['guard']: ")
    assert "not compared, it does not pickle" in report.paths[0]


def test_a_model_file_that_does_not_read_says_why_and_falls_back_to_bytes(tmp_path):
    for run, text in (("a", "tree\nversion=v4\nnonsense\n"), ("b", "tree\nversion=v4\nother\n")):
        (tmp_path / run).mkdir()
        (tmp_path / run / "model.txt").write_text(text)

    difference = _compare_files(tmp_path / "a" / "model.txt", tmp_path / "b" / "model.txt")

    assert isinstance(read_tree_model(tmp_path / "a" / "model.txt"), str)
    assert difference.details[0].startswith(
        "not read as a tree model in run a: not read as LightGBM model text"
    )


def test_json_that_only_looks_like_a_tree_model_is_compared_as_json(tmp_path):
    for run, who in (("a", "me"), ("b", "you")):
        (tmp_path / run).mkdir()
        (tmp_path / run / "m.json").write_text(json.dumps({"learner": who}))

    difference = _compare_files(tmp_path / "a" / "m.json", tmp_path / "b" / "m.json")

    assert file_kind(tmp_path / "a" / "m.json") is ArtifactKind.TREES  # announced by its first key...
    assert difference.details[0].startswith("not read as a tree model in run a: ")  # ...said, not guessed
    assert difference.details[1] == "/learner: 'me' != 'you'"
    assert difference.summary == "model differs: 1 of 1 values differ"
