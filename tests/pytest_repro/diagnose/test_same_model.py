"""Deciding "the same model, but for the parameters a variation sets" by walking the models, not re-pickling them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pytest_repro.diagnose.digests import same_model_except

X = np.random.default_rng(0).normal(size=(120, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)


def _forest(path: Path, **params) -> Path:
    import joblib
    from sklearn.ensemble import RandomForestClassifier

    joblib.dump(RandomForestClassifier(n_estimators=20, random_state=0, **params).fit(X, Y), path)
    return path


def test_a_forest_trained_with_one_and_two_jobs_is_the_same_model_but_for_n_jobs(tmp_path: Path):
    one, two = _forest(tmp_path / "one.joblib", n_jobs=1), _forest(tmp_path / "two.joblib", n_jobs=2)
    assert one.read_bytes() != two.read_bytes()  # the stored n_jobs differs
    # Asked many times, the answer never changes (a re-pickled digest did).
    assert all(same_model_except(one, two, ("n_jobs",)) for _ in range(3))


def test_a_forest_with_other_trees_is_another_model(tmp_path: Path):
    import joblib
    from sklearn.ensemble import RandomForestClassifier

    one = _forest(tmp_path / "one.joblib", n_jobs=1)
    other = tmp_path / "other.joblib"
    joblib.dump(RandomForestClassifier(n_estimators=20, random_state=1, n_jobs=2).fit(X, Y), other)
    assert not same_model_except(one, other, ("n_jobs",))
    assert not same_model_except(one, other, ("n_jobs", "random_state"))


def test_files_that_are_not_models_are_the_same_only_byte_for_byte(tmp_path: Path):
    (tmp_path / "a.txt").write_text("0.5\n")
    (tmp_path / "b.txt").write_text("0.5\n")
    (tmp_path / "c.txt").write_text("0.6\n")
    assert same_model_except(tmp_path / "a.txt", tmp_path / "b.txt", ("n_jobs",))
    assert not same_model_except(tmp_path / "a.txt", tmp_path / "c.txt", ("n_jobs",))
