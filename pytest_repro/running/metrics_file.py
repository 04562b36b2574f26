"""A command training's metrics file (`repro_metrics`), read by its extension: JSON, YAML or CSV.

Scripts write their metrics in whatever their project uses: `json.dump(metrics)`, a
YAML file beside DVC's params, or a CSV from `pandas.DataFrame.to_csv`.  Each is read
into the same mapping a function training returns, so the metrics check compares them
value by value.  A CSV holds either a header row and one row of values
(`accuracy,f1` / `0.91,0.88`), or two columns, a metric's name and its value, one
metric a row (with or without a `name,value` header).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from pytest_repro.core.entry_points import ContractError

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")
CSV_SUFFIXES = (".csv",)
SUFFIXES = (*JSON_SUFFIXES, *YAML_SUFFIXES, *CSV_SUFFIXES)
SUFFIXES_TEXT = "JSON (.json), YAML (.yaml, .yml) or CSV (.csv)"
CSV_SHAPES = "a header row and one row of values, or two columns: a metric's name and its value"


def read_metrics_file(path: Path, named: str) -> dict[str, Any]:
    """The metrics `path` holds, as a mapping; anything else is one ContractError starting with `named`."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ContractError(f"{named}: expected a {SUFFIXES_TEXT} file, by its extension")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ContractError(f"{named}: the command wrote no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{named}: cannot be read ({exc})") from None
    if suffix in CSV_SUFFIXES:
        return _csv_metrics(text, named)
    if suffix in YAML_SUFFIXES:
        metrics = _yaml_metrics(text, named)
    else:
        try:
            metrics = json.loads(text)
        except ValueError as exc:
            raise ContractError(f"{named}: not a JSON file ({exc})") from None
    if not isinstance(metrics, dict):
        raise ContractError(
            f"{named}: expected a mapping of metric names to values, got {type(metrics).__name__}"
        )
    return metrics


def _yaml_metrics(text: str, named: str) -> Any:
    import yaml

    try:
        metrics = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractError(f"{named}: not a YAML file ({' '.join(str(exc).split())})") from None
    try:  # what YAML holds beyond JSON (dates, sets) has no order or value a comparison can trust
        return json.loads(json.dumps(metrics, allow_nan=True))
    except (TypeError, ValueError) as exc:
        raise ContractError(
            f"{named}: holds a value that is not a number, string, list or mapping ({exc})"
        ) from None


def _csv_metrics(text: str, named: str) -> dict[str, Any]:
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise ContractError(f"{named}: the CSV file is empty; expected {CSV_SHAPES}")
    header = [cell.strip() for cell in rows[0]]
    has_header = not any(_is_number(cell) for cell in header)
    if has_header and len(rows) == 2 and not _names_value_pairs(header):
        if len(rows[1]) != len(header):
            raise ContractError(
                f"{named}: the header names {len(header)} metrics, the row below it holds {len(rows[1])} values"
            )
        return {name: _value(cell) for name, cell in zip(header, rows[1], strict=True)}
    pairs = rows[1:] if has_header else rows
    if all(len(row) == 2 for row in rows) and pairs:
        metrics = {}
        for number, (name, value) in enumerate(pairs, 2 if has_header else 1):
            if not name.strip() or _is_number(name):
                raise ContractError(
                    f"{named}: line {number} names no metric ({name!r}); expected {CSV_SHAPES}"
                )
            if name.strip() in metrics:
                raise ContractError(f"{named}: line {number} repeats the metric {name.strip()!r}")
            metrics[name.strip()] = _value(value)
        return metrics
    raise ContractError(f"{named}: expected {CSV_SHAPES}; got {len(rows)} rows of {len(rows[0])} columns")


def _names_value_pairs(header: list[str]) -> bool:
    """Whether a two-column header announces name,value rows (`metric,value`) rather than two metrics."""
    return len(header) == 2 and header[1].lower() in ("value", "score", "result")


def _value(cell: str) -> Any:
    """A CSV cell as a number when it is one (integers stay integers), else the text itself."""
    text = cell.strip()
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            continue
    return text


def _is_number(cell: str) -> bool:
    return not isinstance(_value(cell), str)
