"""The contract accepts folds as scikit-learn gives them, and says in one line what it cannot accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_repro.core.entry_points import ContractError, normalise_folds, normalise_result

X = np.arange(24).reshape(12, 2)
Y = np.array([0, 1] * 6)


def test_test_row_lists_are_kept_as_they_are():
    assert normalise_folds([[1, 2], (3, 4), np.array([5])]) == [[1, 2], [3, 4], [5]]


def test_train_test_pairs_from_a_splitter_give_their_test_rows():
    from sklearn.model_selection import StratifiedKFold

    pairs = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, Y))
    assert normalise_folds(pairs) == [test.tolist() for _, test in pairs]


def test_a_generator_of_pairs_is_accepted():
    from sklearn.model_selection import KFold

    assert normalise_folds(KFold(4).split(X)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]


def test_lists_of_pairs_as_plain_lists_are_accepted():
    assert normalise_folds([([0, 1], [2, 3]), [[2, 3], [0, 1]]]) == [[2, 3], [0, 1]]


@pytest.mark.parametrize(
    ("folds", "message"),
    [
        ("0,1,2", "'folds' must be a list of folds, got str"),
        (7, "'folds' must be a list of folds, got int"),
        ([[0, "x"]], "'folds'[0]: row numbers must be integers, got 'x' (str)"),
        ([[0], [1.5]], "'folds'[1]: row numbers must be integers, got 1.5 (float)"),
        ([{1, 2}], "'folds'[0]: expected test row numbers or a (train, test) pair, got set"),
        (
            [np.zeros((2, 2), dtype=int)],
            "'folds'[0]: expected test row numbers or a (train, test) pair, got ndarray",
        ),
        ([[True, False]], "'folds'[0]: row numbers must be integers, got True (bool)"),
    ],
)
def test_anything_else_is_one_contract_error_naming_the_fold(folds, message):
    with pytest.raises(ContractError) as caught:
        normalise_folds(folds)
    assert str(caught.value) == message


def test_a_set_in_the_metrics_is_a_contract_error(tmp_path: Path):
    with pytest.raises(ContractError, match="'metrics' must hold JSON-like values"):
        normalise_result({"artifacts": {"m": "m.bin"}, "metrics": {"classes": {1, 2}}}, tmp_path)
