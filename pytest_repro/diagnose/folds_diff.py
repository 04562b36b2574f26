"""Compare two cross-validation splits: which folds differ, how many test indices moved, which rows."""

from __future__ import annotations

from typing import Any

from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.rendering import capped

# diff_folds shows at most this many differing folds, then "(+N more)".
MAX_FOLD_LINES = 10


def diff_folds(folds_a: Any, folds_b: Any) -> Difference | None:
    """Compare two cross-validation splits given as lists of test-index lists."""
    folds_a = [[int(i) for i in fold] for fold in folds_a]
    folds_b = [[int(i) for i in fold] for fold in folds_b]
    if folds_a == folds_b:
        return None

    fold_lines = _fold_lines(folds_a, folds_b)
    details = capped(fold_lines, MAX_FOLD_LINES)
    if sorted(map(sorted, folds_a)) == sorted(map(sorted, folds_b)):
        details.insert(0, "the same folds in a different order")
    moved = _moved_rows_line(folds_a, folds_b)
    if moved:
        details.append(moved)

    differing = f"{len(fold_lines)} of {min(len(folds_a), len(folds_b))}"
    if len(folds_a) != len(folds_b):
        summary = (
            f"folds differ: {len(folds_a)} folds != {len(folds_b)} folds ({differing} shared folds differ)"
        )
    else:
        summary = f"folds differ: {differing} folds have different test indices"
    return Difference("folds", summary, tuple(details))


def _fold_lines(folds_a: list[list[int]], folds_b: list[list[int]]) -> list[str]:
    """Describe each shared fold whose test indices differ, by how many moved."""
    total = max(len(folds_a), len(folds_b))
    lines = []
    for number, (fold_a, fold_b) in enumerate(zip(folds_a, folds_b, strict=False), start=1):
        if fold_a == fold_b:
            continue
        set_a, set_b = set(fold_a), set(fold_b)
        moved = max(len(set_a - set_b), len(set_b - set_a))
        if moved == 0:
            lines.append(
                f"fold {number} of {total}: same {len(set_a)} test indices, "
                "in a different order or with different repeats"
            )
            continue
        sizes = "" if len(fold_a) == len(fold_b) else f" (sizes {len(fold_a)} != {len(fold_b)})"
        lines.append(f"fold {number} of {total}: {moved} of {len(fold_a)} test indices differ{sizes}")
    return lines


def _moved_rows_line(folds_a: list[list[int]], folds_b: list[list[int]]) -> str | None:
    """Count the rows whose fold changed, with a few examples; None when no row moved."""
    home_a = {row: number for number, fold in enumerate(folds_a, start=1) for row in fold}
    home_b = {row: number for number, fold in enumerate(folds_b, start=1) for row in fold}
    rows = home_a.keys() | home_b.keys()
    changed = sorted(row for row in rows if home_a.get(row) != home_b.get(row))
    if not changed:
        return None
    examples = ", ".join(
        f"row {row} fold {home_a.get(row, '-')} -> {home_b.get(row, '-')}" for row in changed[:3]
    )
    return f"{len(changed)} of {len(rows)} rows changed fold, e.g. {examples}"
