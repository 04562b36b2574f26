"""Load the purchase dataset strictly and split it, so bad input stops training with one clear line.

The loader reads a user's real file unchanged: every row (duplicates included, they
are real data) in file order, with only empty fields counted as missing, so the
country code "NA" (Namibia) stays a country.  What comes back has fixed dtypes
whatever the file holds: float64 for the numeric inputs, int64 0/1 for the target,
and plain Python `str` objects (object dtype, never pandas' string dtype) for text,
each distinct value one interned object, so the frame pickles to the same bytes in
every run.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from collections import Counter
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from pytest_repro.errors import DatasetError
from pytest_repro.regular_files import open_regular
from pytest_repro.schema import short_repr
from training import columns as col
from training.schema import Config

# Every numeric input is a count or a duration: never negative, and bounded so that no derived
# feature (weighted sums, ratios, their squares in the scaler) can overflow to infinity.
MAX_CELL = 1e12
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def load_dataset(path: str | Path, target: str, data: bytes | None = None) -> pd.DataFrame:
    """Read the CSV at `path` (or parse `data`, its bytes already read), check it and return it with fixed dtypes.

    Training passes the bytes whose SHA-256 it checked against the pin, so what is
    parsed is exactly what was hashed.  Raises DatasetError naming the file, and the
    column and data row where it applies (rows count from 1, the header excluded).
    """
    path = Path(path)
    name = str(path)
    handle = io.BytesIO(_read_bytes(path, name) if data is None else data)
    header = _read_header(handle, name)
    _check_header(header, target, name)
    handle.seek(0)
    raw = _read_cells(handle, name)
    if raw.empty:
        raise DatasetError(f"{name}: no data rows below the header")
    return _typed(raw, target, name)


def _read_bytes(path: Path, name: str) -> bytes:
    if path.is_dir():
        raise DatasetError(f"{name}: is a folder, expected a CSV file")
    try:
        with open_regular(path) as handle:
            return handle.read()
    except FileNotFoundError:
        raise DatasetError(f"{name}: dataset file not found") from None
    except PermissionError:
        raise DatasetError(f"{name}: permission denied reading the dataset file") from None
    except OSError as exc:
        raise DatasetError(f"{name}: cannot read the dataset file ({exc.strerror})") from None


def split_data(df: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Split into train and test, stratified on the target, seeded by the config.

    X keeps the frame's row labels (dataset row numbers), so folds and test rows can be
    recorded as rows of the file.
    """
    from sklearn.model_selection import train_test_split

    target = config.data.target
    if target not in df.columns:
        raise DatasetError(f"{config.data.path}: target column {target!r} is not in the data")
    X = df.drop(columns=[target])
    y = df[target]
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=config.data.test_size, random_state=config.seed, stratify=y
        )
    except ValueError as exc:
        raise DatasetError(
            f"{config.data.path}: cannot split {len(df)} rows with data.test_size="
            f"{config.data.test_size} stratified on {target!r}: {exc}"
        ) from None
    return X_train, X_test, y_train, y_test


def _read_header(handle: IO[bytes], name: str) -> list[str]:
    """Return the first non-blank record, parsed the way the CSV reader will parse it."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        for record in csv.reader(text):
            if any(field.strip() for field in record):
                return record
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not UTF-8 text (byte {exc.start} of the header)") from None
    except csv.Error as exc:
        raise DatasetError(f"{name}: cannot parse the header line ({exc})") from None
    finally:
        text.detach()  # leave the binary handle open for the full read
    raise DatasetError(f"{name}: empty file; expected a header line naming the columns")


def _check_header(header: list[str], target: str, name: str) -> None:
    """Check the names before reading rows: pandas would silently rename a duplicate 'a' to 'a.1'."""
    required = (*col.INPUT_COLUMNS, target)
    if not set(header) & set(required) and any(_NUMBER.fullmatch(f) for f in header):
        shown = ", ".join(short_repr(f) for f in header[:4])
        raise DatasetError(
            f"{name}: no header line; the first line holds values ({shown}, ...), "
            f"expected column names such as {', '.join(required)}"
        )
    for number, field in enumerate(header, start=1):
        if not field.strip():
            raise DatasetError(
                f"{name}: column {number} has no name in the header; "
                "name it, or remove it if it is a saved index"
            )
    repeated = [f for f, count in Counter(header).items() if count > 1]
    if repeated:
        where = "; ".join(
            f"{f!r} at columns {', '.join(str(i) for i, g in enumerate(header, 1) if g == f)}"
            for f in repeated
        )
        raise DatasetError(f"{name}: duplicate column names in the header: {where}")
    if target in col.INPUT_COLUMNS:
        raise DatasetError(f"{name}: target column {target!r} is one of the input columns")
    if target not in header:
        raise DatasetError(
            f"{name}: target column {target!r} (data.target) is missing; the header has: {', '.join(header)}"
        )
    missing = [c for c in col.INPUT_COLUMNS if c not in header]
    if missing:
        raise DatasetError(
            f"{name}: required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} missing; the header has: {', '.join(header)}"
        )


def _read_cells(handle: IO[bytes], name: str) -> pd.DataFrame:
    """Read every cell as text; only an empty field is missing (so "NA" is Namibia)."""
    try:
        return pd.read_csv(
            handle,
            encoding="utf-8-sig",
            dtype=object,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
        )
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = " ".join(str(exc).split())
        raise DatasetError(f"{name}: cannot parse the CSV: {reason}") from None


def _typed(raw: pd.DataFrame, target: str, name: str) -> pd.DataFrame:
    used = (*col.INPUT_COLUMNS, target)
    for column in used:
        if raw[column].isna().all():
            raise DatasetError(f"{name}: column {column!r} is empty in every row")
    data: dict[str, np.ndarray] = {}
    for column in raw.columns:
        values = raw[column].to_numpy(dtype=object)
        if column == target:
            data[column] = _to_target(values, column, name)
        elif column in col.NUMERIC_INPUTS:
            data[column] = _to_float(values, column, name)
        else:
            data[column] = _to_text(values)
    frame = pd.DataFrame({c: pd.Series(v, dtype=v.dtype) for c, v in data.items()})
    frame.columns = pd.Index(list(raw.columns), dtype=object)
    frame.index = pd.RangeIndex(len(frame))
    return frame


def _to_float(values: np.ndarray, column: str, name: str) -> np.ndarray:
    """Parse numbers exactly (Python's correctly rounded float), naming the first bad cell."""
    parsed = {text: _parse_number(text) for text in set(values) if isinstance(text, str)}
    bad = {text for text, number in parsed.items() if number is None}
    if bad:
        row = next(i for i, v in enumerate(values) if isinstance(v, str) and v in bad)
        raise DatasetError(
            f"{name}: column {column!r} holds text at row {row + 1}: {short_repr(values[row])}; "
            "expected a finite number (only an empty field counts as missing)"
        )
    out_of_range = {text for text, number in parsed.items() if not 0.0 <= number <= MAX_CELL}
    if out_of_range:
        row = next(i for i, v in enumerate(values) if isinstance(v, str) and v in out_of_range)
        raise DatasetError(
            f"{name}: column {column!r} holds {short_repr(values[row])} at row {row + 1}; "
            f"expected a count or duration in [0, {MAX_CELL:g}]"
        )
    return np.array([parsed[v] if isinstance(v, str) else math.nan for v in values], dtype=np.float64)


def _parse_number(text: str) -> float | None:
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _to_target(values: np.ndarray, column: str, name: str) -> np.ndarray:
    """Return the target as int64 0/1; it must have no gaps and both classes."""
    labels = np.zeros(len(values), dtype=np.int64)
    for row, text in enumerate(values):
        if not isinstance(text, str):
            raise DatasetError(f"{name}: target column {column!r} is empty at row {row + 1}")
        number = _parse_number(text)
        if number not in (0.0, 1.0):
            raise DatasetError(
                f"{name}: target column {column!r} must be 0 or 1; row {row + 1} holds {short_repr(text)}"
            )
        labels[row] = int(number)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise DatasetError(
            f"{name}: target column {column!r} has only class {classes[0]} in {len(labels)} rows; "
            "a classifier needs both 0 and 1"
        )
    return labels


def _to_text(values: np.ndarray) -> np.ndarray:
    """Return plain str objects, one interned object per distinct value, NaN where empty."""
    out = np.empty(len(values), dtype=object)
    out[:] = [sys.intern(v) if isinstance(v, str) else math.nan for v in values]
    return out
