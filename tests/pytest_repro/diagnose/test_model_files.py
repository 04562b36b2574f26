"""Model files: bytes first, then the loaded models walked; when they cannot be loaded, bytes and why."""

from __future__ import annotations

import importlib
import re
import sys
import textwrap

import pytest

from pytest_repro.diagnose.bytes_diff import diff_bytes
from pytest_repro.diagnose.model_diff import diff_models
from pytest_repro.diagnose.model_files import diff_model_files

USER_PACKAGE = "acme_churn_features"


def test_unseeded_forests_are_diagnosed_with_the_cause_and_tree_statistics(forest, dump_pair):
    path_a, path_b = dump_pair(forest(None), forest(None))

    assert diff_bytes("best_model.joblib", path_a, path_b) is not None
    difference = diff_model_files(path_a, path_b)

    assert difference is not None
    assert difference.subject == "best_model.joblib"
    assert re.match(
        r"best_model\.joblib differs: (at least )?\d+ attribute paths? differs?$", difference.summary
    )
    assert re.match(r"best_model\.estimators_: [1-5] of 5 estimators differ$", difference.details[0])
    assert "candidate cause: best_model RandomForestClassifier has random_state=None" in difference.details
    text = difference.render()
    # Each differing tree is described with counts: nodes, or elements of a node array.
    assert re.search(
        r"model\.estimators_\[\d\]\.tree_(\.\w+)?: (\d+ nodes != \d+ nodes|\d+ of \d+ elements differ)", text
    )
    assert re.search(r"model\.estimators_\[\d\]\.get_params\(\)\['random_state'\]: \d+ != \d+", text)
    assert "bytes: first difference at byte" in text


def test_the_artifact_name_is_the_subject_and_the_root_of_the_paths(forest, dump_pair):
    path_a, path_b = dump_pair(forest(None), forest(None), name="model.joblib")

    difference = diff_model_files(path_a, path_b, name="weights")

    assert difference is not None
    assert difference.subject == "weights"
    assert difference.summary.startswith("model.joblib differs: ")
    assert difference.details[0].startswith("weights.estimators_: ")


def test_seeded_forests_have_no_difference(forest, dump_pair):
    path_a, path_b = dump_pair(forest(0), forest(0))

    assert diff_bytes("best_model.joblib", path_a, path_b) is None
    assert diff_model_files(path_a, path_b) is None
    assert diff_models(forest(0), forest(0)) == []


def test_equal_objects_with_different_pickled_bytes_are_explained(forest, dump_pair):
    model = forest(0)
    path_a, path_b = dump_pair(model, model, protocol=2)

    difference = diff_model_files(path_a, path_b)

    assert difference is not None
    assert difference.summary == (
        "best_model.joblib differs: objects equal; the pickled bytes differ, "
        "e.g. a set or dict ordering or a RandomState object"
    )
    assert difference.details[0].startswith("bytes: first difference at byte ")


def test_without_joblib_models_are_compared_as_bytes_saying_why(forest, dump_pair, monkeypatch):
    path_a, path_b = dump_pair(forest(None), forest(None))
    monkeypatch.setitem(sys.modules, "joblib", None)  # `import joblib` now fails as if not installed

    difference = diff_model_files(path_a, path_b)

    assert difference is not None
    assert difference.summary.startswith("best_model.joblib differs: first difference at byte ")
    assert difference.details[0] == (
        'not loaded as a model: joblib is not installed (pip install "pytest-repro[sklearn]")'
    )
    assert difference.details[1:] == diff_bytes("x", path_a, path_b).details


# ----------------------------------------------------------------- the project's own modules


@pytest.fixture
def user_models(tmp_path, data, dump_pair):
    """Two pipelines over a function of the user's package, saved; the package then off sys.path."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    project = tmp_path / "project"
    (project / USER_PACKAGE).mkdir(parents=True)
    (project / USER_PACKAGE / "__init__.py").write_text(
        textwrap.dedent(
            """\
            def shifted(x):
                return x + 1.0
            """
        )
    )
    sys.path.insert(0, str(project))
    try:
        shifted = importlib.import_module(USER_PACKAGE).shifted
        features, labels = data

        def pipeline(c):
            steps = [("shift", FunctionTransformer(shifted)), ("clf", LogisticRegression(C=c))]
            return Pipeline(steps).fit(features, labels)

        paths = dump_pair(pipeline(1.0), pipeline(2.0), name="model.joblib")
    finally:
        sys.path.remove(str(project))
        sys.modules.pop(USER_PACKAGE, None)
    yield project, paths
    sys.modules.pop(USER_PACKAGE, None)


def test_models_over_the_projects_own_functions_load_from_the_working_directory(user_models, monkeypatch):
    project, (path_a, path_b) = user_models
    monkeypatch.chdir(project)
    before = list(sys.path)

    difference = diff_model_files(path_a, path_b, name="model")

    assert difference is not None
    assert difference.details[0] == "model.named_steps['clf'].get_params()['C']: 1.0 != 2.0"
    assert sys.path == before


def test_models_load_from_the_import_paths_given_as_a_training_would(user_models, tmp_path, monkeypatch):
    project, (path_a, path_b) = user_models
    monkeypatch.chdir(tmp_path)

    difference = diff_model_files(path_a, path_b, name="model", import_paths=[project])

    assert difference is not None
    assert difference.details[0] == "model.named_steps['clf'].get_params()['C']: 1.0 != 2.0"


def test_a_model_that_cannot_be_loaded_falls_back_to_bytes_in_one_line(user_models, tmp_path, monkeypatch):
    _, (path_a, path_b) = user_models
    monkeypatch.chdir(tmp_path)

    difference = diff_model_files(path_a, path_b, name="model")

    assert difference is not None
    assert difference.summary.startswith("model.joblib differs: first difference at byte ")
    assert difference.details[0] == (
        "not loaded as a model: joblib could not load run a: "
        f"ModuleNotFoundError: No module named {USER_PACKAGE!r}"
    )
    assert difference.details[1].startswith("run a: ")
