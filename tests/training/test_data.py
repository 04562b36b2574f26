"""Loading a user's CSV strictly and splitting it reproducibly; seeding the global generators."""

from __future__ import annotations

import os
import pickle
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import training.data
from pytest_repro.errors import DatasetError
from training import columns as col
from training.config import load_config
from training.data import load_dataset, split_data
from training.datasets import generate_csv
from training.schema import Config
from training.seeding import set_global_seed

ROOT = Path(__file__).resolve().parents[2]
HEADER = ",".join((*col.INPUT_COLUMNS, col.PURCHASED))
ROWS = (
    "NA,10,5.5,1,0,0,0.00,0",
    "IN,200,812.4,3,4,2,31.25,1",
    "US,0,0.1,1,0,0,0.00,0",
    "NA,10,5.5,1,0,0,0.00,0",
)


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _csv(header: str = HEADER, rows: tuple[str, ...] = ROWS) -> str:
    return "\n".join([header, *rows]) + "\n"


def _error(path: Path, target: str = col.PURCHASED) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(path, target)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="module")
def frame(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("data") / "data.csv"
    path.write_bytes(generate_csv(seed=1, n_rows=1_000))
    return load_dataset(path, col.PURCHASED)


# Loading


def test_na_country_loads_as_namibia_not_missing(tmp_path: Path) -> None:
    frame = load_dataset(_write(tmp_path, _csv()), col.PURCHASED)
    assert list(frame[col.COUNTRY]) == ["NA", "IN", "US", "NA"]
    assert frame[col.COUNTRY].notna().all()


def test_bom_and_crlf_file_loads_equal_to_the_plain_one(tmp_path: Path) -> None:
    plain = load_dataset(_write(tmp_path, _csv()), col.PURCHASED)
    windows = _write(tmp_path, "\ufeff" + _csv().replace("\n", "\r\n"), "windows.csv")
    pd.testing.assert_frame_equal(load_dataset(windows, col.PURCHASED), plain)


def test_loaded_frame_has_fixed_dtypes_file_order_and_range_index(tmp_path: Path) -> None:
    frame = load_dataset(_write(tmp_path, _csv()), col.PURCHASED)
    assert list(frame.columns) == [*col.INPUT_COLUMNS, col.PURCHASED]
    assert frame.columns.dtype == object
    assert frame[col.COUNTRY].dtype == object
    assert all(type(v) is str for v in frame[col.COUNTRY])
    assert all(frame[c].dtype == np.float64 for c in col.NUMERIC_INPUTS)
    assert frame[col.PURCHASED].dtype == np.int64
    assert isinstance(frame.index, pd.RangeIndex) and list(frame.index) == [0, 1, 2, 3]
    assert frame[col.MINUTES_WATCHED].tolist() == [5.5, 812.4, 0.1, 5.5]


def test_duplicate_rows_are_kept(tmp_path: Path) -> None:
    frame = load_dataset(_write(tmp_path, _csv()), col.PURCHASED)
    assert len(frame) == 4 and frame.duplicated().sum() == 1


def test_only_empty_fields_are_missing(tmp_path: Path) -> None:
    rows = ("NA,,5.5,1,0,0,0.00,0", ",200,812.4,3,4,2,31.25,1")
    frame = load_dataset(_write(tmp_path, _csv(rows=rows)), col.PURCHASED)
    assert np.isnan(frame.loc[0, col.DAYS_ON_PLATFORM])
    assert frame.loc[0, col.COUNTRY] == "NA"
    assert frame[col.COUNTRY].isna().tolist() == [False, True]


def test_loading_twice_pickles_to_the_same_bytes(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "again.csv"
    path.write_bytes(generate_csv(seed=1, n_rows=1_000))
    assert pickle.dumps(load_dataset(path, col.PURCHASED)) == pickle.dumps(frame)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    assert "dataset file not found" in _error(tmp_path / "absent.csv")


def test_folder_instead_of_file_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert "is a folder" in _error(folder)


def test_empty_file_is_reported(tmp_path: Path) -> None:
    assert "empty file" in _error(_write(tmp_path, ""))


def test_blank_lines_only_count_as_an_empty_file(tmp_path: Path) -> None:
    assert "empty file" in _error(_write(tmp_path, "\n\r\n\n"))


def test_header_without_rows_is_reported(tmp_path: Path) -> None:
    assert "no data rows" in _error(_write(tmp_path, HEADER + "\n"))


def test_file_without_header_is_reported(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, "\n".join(ROWS) + "\n"))
    assert "no header line" in message and "'NA'" in message


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, _csv())
    path.chmod(0)
    assert "permission denied" in _error(path)


def test_permission_error_becomes_one_dataset_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    path = _write(tmp_path, _csv())
    monkeypatch.setattr(training.data, "open_regular", refuse)
    assert "permission denied reading the dataset file" in _error(path)


def test_duplicate_column_names_are_reported_before_pandas_renames_them(tmp_path: Path) -> None:
    header = HEADER + "," + col.MINUTES_WATCHED
    rows = tuple(r + ",1" for r in ROWS)
    message = _error(_write(tmp_path, _csv(header, rows)))
    assert "duplicate column names" in message
    assert f"'{col.MINUTES_WATCHED}' at columns 3, 9" in message


def test_missing_input_column_is_named(tmp_path: Path) -> None:
    header = HEADER.replace(col.COURSES_STARTED, "courses")
    message = _error(_write(tmp_path, _csv(header)))
    assert f"required column '{col.COURSES_STARTED}' missing" in message


def test_missing_target_column_is_named(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, _csv()), target="converted")
    assert "target column 'converted'" in message and "missing" in message


def test_target_that_is_not_zero_or_one_names_row_and_value(tmp_path: Path) -> None:
    rows = (*ROWS[:2], "US,0,0.1,1,0,0,0.00,yes")
    message = _error(_write(tmp_path, _csv(rows=rows)))
    assert "must be 0 or 1" in message and "row 3" in message and "'yes'" in message


def test_target_with_a_single_class_is_reported(tmp_path: Path) -> None:
    rows = tuple(r[:-1] + "0" for r in ROWS)
    message = _error(_write(tmp_path, _csv(rows=rows)))
    assert f"'{col.PURCHASED}' has only class 0" in message


def test_target_with_an_empty_cell_names_the_row(tmp_path: Path) -> None:
    rows = (*ROWS[:3], "US,0,0.1,1,0,0,0.00,")
    assert "is empty at row 4" in _error(_write(tmp_path, _csv(rows=rows)))


def test_column_missing_in_every_row_is_named(tmp_path: Path) -> None:
    rows = tuple(",".join("" if i == 5 else v for i, v in enumerate(r.split(","))) for r in ROWS)
    message = _error(_write(tmp_path, _csv(rows=rows)))
    assert f"column '{col.EXAMS_PASSED}' is empty in every row" in message


@pytest.mark.parametrize("bad", ["abc", "NA", "1,5", "inf", "nan", "1e999"])
def test_text_in_a_numeric_column_names_column_row_and_value(tmp_path: Path, bad: str) -> None:
    quoted = f'"{bad}"' if "," in bad else bad
    rows = (*ROWS[:2], f"US,0,{quoted},1,0,0,0.00,0")
    message = _error(_write(tmp_path, _csv(rows=rows)))
    assert f"column '{col.MINUTES_WATCHED}' holds text at row 3: '{bad}'" in message


def test_unnamed_column_is_reported(tmp_path: Path) -> None:
    rows = tuple(f"{i},{r}" for i, r in enumerate(ROWS))
    assert "column 1 has no name" in _error(_write(tmp_path, _csv("," + HEADER, rows)))


def test_ragged_row_is_reported_as_a_parse_error(tmp_path: Path) -> None:
    rows = (*ROWS, "US,0,0.1,1,0,0,0.00,0,9,9")
    assert "cannot parse the CSV" in _error(_write(tmp_path, _csv(rows=rows)))


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(_csv().replace("NA,10", "Ñ,10").encode("latin-1"))
    assert "not UTF-8" in _error(path)


# Splitting


def test_split_is_stratified_and_keeps_dataset_row_labels(frame: pd.DataFrame, config: Config) -> None:
    X_train, X_test, y_train, y_test = split_data(frame, config)
    assert len(X_test) == round(len(frame) * config.data.test_size)
    assert col.PURCHASED not in X_train.columns
    assert sorted([*X_train.index, *X_test.index]) == list(range(len(frame)))
    assert list(y_train.index) == list(X_train.index)
    pd.testing.assert_frame_equal(X_test, frame.loc[X_test.index, list(X_test.columns)])
    overall = frame[col.PURCHASED].mean()
    assert abs(y_train.mean() - overall) < 0.01 and abs(y_test.mean() - overall) < 0.01


def test_split_is_identical_for_the_same_seed(frame: pd.DataFrame, config: Config) -> None:
    first, second = split_data(frame, config), split_data(frame, config)
    assert list(first[0].index) == list(second[0].index)
    assert list(first[1].index) == list(second[1].index)


def test_split_differs_for_another_seed(frame: pd.DataFrame, config: Config) -> None:
    other = replace(config, seed=config.seed + 1)
    assert list(split_data(frame, config)[1].index) != list(split_data(frame, other)[1].index)


def test_split_that_cannot_stratify_is_a_dataset_error(config: Config, tmp_path: Path) -> None:
    frame = load_dataset(_write(tmp_path, _csv()), col.PURCHASED)  # one buyer only
    with pytest.raises(DatasetError, match="cannot split 4 rows"):
        split_data(frame, config)


# Seeding


def test_global_seed_repeats_random_and_numpy_draws() -> None:
    set_global_seed(123)
    first = (random.random(), np.random.rand())
    set_global_seed(123)
    assert (random.random(), np.random.rand()) == first
    set_global_seed(124)
    assert (random.random(), np.random.rand()) != first
