"""The compared runs' environments side by side: what each recorded, and which facts differ.

The twins record their environment in their lineages (interpreter, libraries, BLAS
thread pools, code version); the launcher sets a few variables per run (the hash seed,
the thread counts).  Both are flattened to one row per fact, so a reader sees at a
glance that only PYTHONHASHSEED differs, or that one run saw another numpy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_repro.report.markup import cell, note, table, text
from pytest_repro.report.model import EnvironmentRow, EnvironmentTable

ABSENT = "(not recorded)"
# The sections of a run's record, in the order the table lists them.
SECTIONS = ("process", "environment", "code", "lineage", "wall time")
# Facts that differ between any two runs by nature: shown, never marked or counted as a difference.
VARIES = frozenset({"wall time"})


def environment_table(runs: Mapping[str, Mapping[str, Any]], caption: str = "") -> EnvironmentTable:
    """One row per fact any run recorded, its value in each run (labels sorted: run-a, run-b)."""
    labels = tuple(sorted(runs))
    flat = {label: flatten(runs[label]) for label in labels}
    keys: list[str] = []
    for label in labels:
        keys.extend(key for key in flat[label] if key not in keys)
    keys.sort(key=lambda key: (_section_rank(key), key))
    rows = tuple(EnvironmentRow(key, tuple(flat[label].get(key, ABSENT) for label in labels)) for key in keys)
    return EnvironmentTable(labels, rows, caption)


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted keys to display values; a thread pool (a dict in a list) stays one line."""
    flat: dict[str, str] = {}
    for key in sorted(record, key=str):
        value = record[key]
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            for index, item in enumerate(value, 1):
                flat[f"{name}[{index}]"] = ", ".join(f"{k}={_shown(item[k])}" for k in sorted(item))
        else:
            flat[name] = _shown(value)
    return flat


def render_environment(found: EnvironmentTable) -> str:
    """The side-by-side table, differing rows marked, with a count of how many differ."""
    differing = sum(row.differs and row.key not in VARIES for row in found.rows)
    rows = [
        f'<tr class="{"differs" if row.differs and row.key not in VARIES else "same"}">'
        + cell(text(row.key), tag="th")
        + "".join(cell(text(value), cls="value") for value in row.values)
        + "</tr>"
        for row in found.rows
    ]
    summary = f"{differing} of {len(found.rows)} recorded facts differ between {' and '.join(found.labels)}"
    caption = f"<p>{text(found.caption)}</p>" if found.caption else ""
    rendered = table(("recorded", *found.labels), rows, cls="environment")
    return f'{caption}{note(summary)}<div class="scroll">{rendered}</div>'


def _section_rank(key: str) -> int:
    head = key.split(".", 1)[0].split("[", 1)[0]
    return SECTIONS.index(head) if head in SECTIONS else len(SECTIONS)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
