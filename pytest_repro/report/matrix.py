"""The variation matrix: for each variation (rows) and each output (columns), what the hunt saw.

A cell is one of:

    identical       the output's bytes (or values, within the tolerance) did not change
    differs         the variation changed this output: reproducibility breaks under it
    portability     a variation that stands in for another machine (blas_kernel, simd, cpus)
                    moved this output: not a failure, but another runner may not
                    reproduce it
    changed         an informational variation (row_order) moved this output
    inconclusive    nothing can be blamed (the control run, or the twins, already differ)
    failed          the varied training did not finish
    not exercised   nothing was varied: the training never read the variable the
                    variation sets, or this machine cannot vary it (no other locale)
    not applicable  the variation means nothing for this kind of training (the working
                    directory of a command, which always runs from its copy)

The words and their colours are the one vocabulary of `pytest_repro.core.outcomes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pytest_repro.core.outcomes import Outcome
from pytest_repro.report.markup import cell, note, status_class, table, text
from pytest_repro.report.model import Row
from pytest_repro.variations.catalogue import ALONE, PORTABILITY
from pytest_repro.variations.report import verdict

LEGEND = (
    (Outcome.IDENTICAL, "the output did not change"),
    (Outcome.DIFFERS, "the variation changes the output"),
    (
        Outcome.PORTABILITY,
        "moved by another machine's kernels: reported, not failed; another runner may differ",
    ),
    (Outcome.CHANGED, "moved by an informational variation (row order): reported, never failed"),
    (Outcome.INCONCLUSIVE, "no variation can be blamed: the runs differ without it"),
    (Outcome.FAILED, "the varied training did not finish"),
    (
        Outcome.NOT_EXERCISED,
        "nothing was varied: the training never read the variable, or this machine cannot vary it",
    ),
    (Outcome.NOT_APPLICABLE, "means nothing for this kind of training"),
)
EVERY_OUTPUT = "every output"


@dataclass(frozen=True)
class Cell:
    """One output under one variation: its state and the one-line reason shown as a tooltip."""

    state: Outcome
    reason: str = ""


@dataclass(frozen=True)
class MatrixRow:
    """One variation (or the all-at-once or control run) across the outputs."""

    name: str
    change: str
    tested: str
    cells: tuple[Cell, ...]


def output_columns(report: Any) -> tuple[str, ...]:
    """The reference run's outputs, then any other subject a difference names; never empty."""
    columns = list(dict.fromkeys(report.outputs))
    shown = [*report.outcomes.values(), *(o for o in (report.combined, report.control) if o is not None)]
    for outcome in shown:
        columns.extend(d.subject for d in outcome.differences if d.subject not in columns)
    return tuple(columns) or (EVERY_OUTPUT,)


def outcome_cells(outcome: Any, columns: Iterable[str]) -> tuple[Cell, ...]:
    """Classify one outcome against each output column."""
    columns = tuple(columns)
    if outcome.varied_nothing:
        return tuple(Cell(outcome.status, outcome.note) for _ in columns)
    if outcome.status is Outcome.FAILED:
        first = (outcome.error or "").strip().splitlines()[:1]
        return tuple(Cell(Outcome.FAILED, first[0] if first else "the training failed") for _ in columns)
    if outcome.status is Outcome.INCONCLUSIVE:
        return tuple(Cell(Outcome.INCONCLUSIVE, "the control run differs too") for _ in columns)
    if outcome.status is Outcome.DIFFERS or outcome.name not in ALONE:
        moved = Outcome.DIFFERS  # a portability variation fails like any other with --repro-portability=fail
    else:
        moved = Outcome.PORTABILITY if outcome.name in PORTABILITY else Outcome.CHANGED
    by_subject = {d.subject: d.summary for d in outcome.differences}
    if columns == (EVERY_OUTPUT,):
        summary = "; ".join(by_subject.values())
        return (Cell(moved, summary) if by_subject else Cell(Outcome.IDENTICAL),)
    return tuple(Cell(moved, by_subject[c]) if c in by_subject else Cell(Outcome.IDENTICAL) for c in columns)


def matrix_rows(report: Any) -> tuple[tuple[str, ...], tuple[MatrixRow, ...]]:
    """The columns and rows of a variation report's matrix: each variation, then all at once and control."""
    columns = output_columns(report)
    rows = []
    for outcome in report.outcomes.values():
        tested = "all at once" if outcome.tested == "together" else "alone"
        change = f"{outcome.reference} → {outcome.varied}"
        rows.append(MatrixRow(outcome.name, change, tested, outcome_cells(outcome, columns)))
    if report.combined is not None:
        checked = [n for n, o in report.outcomes.items() if n not in ALONE and not o.varied_nothing]
        change = f"reference → {', '.join(checked)}"
        rows.append(MatrixRow("(all at once)", change, "together", outcome_cells(report.combined, columns)))
    if report.control is not None:
        cells = outcome_cells(report.control, columns)
        rows.append(MatrixRow("(control)", "reference → reference again", "alone", cells))
    return columns, tuple(rows)


def render_matrix(report: Any) -> str:
    """The matrix table, its legend and the hunt's verdict."""
    columns, rows = matrix_rows(report)
    body = [
        "<tr>"
        + cell(text(row.name), tag="th")
        + cell(text(row.change), cls="change")
        + cell(text(row.tested), cls="muted-text")
        + "".join(_state_cell(c) for c in row.cells)
        + "</tr>"
        for row in rows
    ]
    rendered = table(("variation", "reference → varied", "tested", *columns), body, cls="matrix")
    return f'<div class="scroll">{rendered}</div>{legend()}{note(verdict(report))}'


def render_unhunted(rows: Iterable[Row]) -> str:
    """The `vary[...]` checks that reported without a hunt: every output inconclusive, with the reason."""
    body = [
        "<tr>"
        + cell(text(row.cells[0]), tag="th")
        + _state_cell(Cell(Outcome.INCONCLUSIVE, row.cells[-1]))
        + "</tr>"
        for row in rows
    ]
    matrix = table(("variation", EVERY_OUTPUT), body, cls="matrix")
    return f'<div class="scroll">{matrix}</div>{legend()}'


def legend() -> str:
    """What each cell state means."""
    items = "".join(
        f'<li><span class="badge {status_class(state)}">{text(state)}</span> {text(meaning)}</li>'
        for state, meaning in LEGEND
    )
    return f'<ul class="legend">{items}</ul>'


def _state_cell(found: Cell) -> str:
    return cell(text(found.state), cls=f"state {status_class(found.state)}", title=found.reason)
