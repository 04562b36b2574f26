"""Cross-validation folds: which folds differ, how many test indices moved, which rows changed fold."""

from __future__ import annotations

import numpy as np

from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.folds_diff import diff_folds


def test_moved_fold_indices_are_counted_per_fold():
    folds_a = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    folds_b = [[0, 1, 2, 4], [3, 5, 6, 7], [8, 9, 10, 11]]

    difference = diff_folds(folds_a, folds_b)

    assert difference == Difference(
        "folds",
        "folds differ: 2 of 3 folds have different test indices",
        (
            "fold 1 of 3: 1 of 4 test indices differ",
            "fold 2 of 3: 1 of 4 test indices differ",
            "2 of 12 rows changed fold, e.g. row 3 fold 1 -> 2, row 4 fold 2 -> 1",
        ),
    )


def test_different_number_of_folds_is_reported():
    difference = diff_folds([[0, 1], [2, 3]], [[0, 1], [2], [3]])

    assert difference is not None
    assert difference.summary == "folds differ: 2 folds != 3 folds (1 of 2 shared folds differ)"
    assert "fold 2 of 3: 1 of 2 test indices differ (sizes 2 != 1)" in difference.details


def test_equal_folds_have_no_difference_and_reordered_folds_are_named():
    assert diff_folds([[0, 1], [2, 3]], [[0, 1], [2, 3]]) is None
    assert diff_folds(np.array([[0, 1], [2, 3]]), [[0, 1], [2, 3]]) is None

    difference = diff_folds([[0, 1], [2, 3]], [[2, 3], [0, 1]])

    assert difference is not None
    assert difference.details[0] == "the same folds in a different order"
