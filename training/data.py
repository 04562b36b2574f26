"""Load the purchase dataset strictly and split it: bad input stops training with one line naming the cell.

Only an empty field is missing, so the country code "NA" (Namibia) stays a country; Python's `float`
parses the numbers, so the frame does not depend on the CSV parser's float routine.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from pytest_repro.core import short_repr
from pytest_repro.errors import DatasetError
from training.config import env_int

COUNTRY = "student_country"
_ACTIVITY = ("days_on_platform", "minutes_watched", "courses_started")
_EXAMS = ("practice_exams_started", "practice_exams_passed", "minutes_spent_on_exams")
NUMERIC_INPUTS = (*_ACTIVITY, *_EXAMS)
INPUT_COLUMNS = (COUNTRY, *NUMERIC_INPUTS)
# Every numeric input is a count or a duration: bounded, so no derived feature overflows to infinity.
MAX_CELL = 1e12


def load_dataset(data: bytes, name: str, target: str) -> pd.DataFrame:
    """Parse the dataset's CSV bytes into a frame (float64 inputs, int64 0/1 target), or raise DatasetError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    header = next((row for row in csv.reader(io.StringIO(text)) if any(f.strip() for f in row)), None)
    if header is None:
        raise DatasetError(f"{name}: empty file; expected a header line naming the columns")
    # The names are checked before pandas reads rows: it would silently rename a duplicate 'a' to 'a.1'.
    required = (*INPUT_COLUMNS, target)
    if not set(header) & set(required) and any(_number(f) is not None for f in header):
        raise DatasetError(
            f"{name}: no header line; the first line holds values ({', '.join(map(short_repr, header[:4]))}, "
            f"...), expected column names such as {', '.join(required)}"
        )
    repeated = [f for f, count in Counter(header).items() if count > 1]
    if repeated:
        where = "; ".join(
            f"{f!r} at columns {', '.join(str(i) for i, g in enumerate(header, 1) if g == f)}"
            for f in repeated
        )
        raise DatasetError(f"{name}: duplicate column names in the header: {where}")
    listed = ", ".join(header)
    if target not in header:
        raise DatasetError(
            f"{name}: target column {target!r} (data.target) is missing; the header has: {listed}"
        )
    missing = ", ".join(repr(c) for c in INPUT_COLUMNS if c not in header)
    if missing:
        raise DatasetError(f"{name}: required column(s) {missing} missing; the header has: {listed}")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise DatasetError(f"{name}: cannot parse the CSV: {' '.join(str(exc).split())}") from None
    for column in (*INPUT_COLUMNS, target):  # also when there are no rows at all
        if frame[column].isna().all():
            raise DatasetError(f"{name}: column {column!r} is empty in every row")
    for column in NUMERIC_INPUTS:
        frame[column] = _numbers(frame[column], column, name)
    frame[target] = _labels(frame[target], target, name)
    return frame


def _number(text: object) -> float | None:
    """Parse one cell; NaN for an empty one, None for text that is not a finite number."""
    if not isinstance(text, str):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _numbers(cells: pd.Series, column: str, name: str) -> np.ndarray:
    values = [_number(text) for text in cells]
    for row, (text, value) in enumerate(zip(cells, values, strict=True), start=1):
        if value is None:
            raise DatasetError(
                f"{name}: column {column!r} holds text at row {row}: {short_repr(text)}; "
                "expected a finite number (only an empty field counts as missing)"
            )
        if not (math.isnan(value) or 0.0 <= value <= MAX_CELL):
            raise DatasetError(
                f"{name}: column {column!r} holds {short_repr(text)} at row {row}; "
                f"expected a count or duration in [0, {MAX_CELL:g}]"
            )
    return np.array(values, dtype=np.float64)


def _labels(cells: pd.Series, column: str, name: str) -> np.ndarray:
    for row, text in enumerate(cells, start=1):
        if not isinstance(text, str):
            raise DatasetError(f"{name}: target column {column!r} is empty at row {row}")
        if _number(text) not in (0.0, 1.0):
            raise DatasetError(
                f"{name}: target column {column!r} must be 0 or 1; row {row} holds {short_repr(text)}"
            )
    labels = np.array([int(float(text)) for text in cells], dtype=np.int64)
    if len(np.unique(labels)) < 2:
        raise DatasetError(
            f"{name}: target column {column!r} has only class {labels[0]} in {len(labels)} rows; "
            "a classifier needs both 0 and 1"
        )
    return labels


def reorder_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Shuffle the rows, each keeping its row number, when REPRO_ROW_ORDER_SEED is set (the row_order variation)."""
    seed = env_int("REPRO_ROW_ORDER_SEED", -1, 0)
    return frame if seed < 0 else frame.iloc[np.random.default_rng(seed).permutation(len(frame))]


def split_data(frame: pd.DataFrame, config) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Split into train and test, stratified on the target and seeded; X keeps the dataset's row labels."""
    target = config.data.target
    x, y = frame.drop(columns=[target]), frame[target]
    try:
        return train_test_split(x, y, test_size=config.data.test_size, random_state=config.seed, stratify=y)
    except ValueError as exc:
        raise DatasetError(
            f"{config.data.path}: cannot split {len(frame)} rows with data.test_size="
            f"{config.data.test_size} stratified on {target!r}: {exc}"
        ) from None
