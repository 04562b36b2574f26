"""What a report page shows, as plain frozen records: the collectors fill them, the page renders them.

Every string here may come from a user (a check name, a metric name, a config value,
a failure's text); the renderer escapes all of them, and nothing here is markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    """One table row: its cells, and the outcome word that colours it (`identical`, `differ`, ...)."""

    cells: tuple[str, ...]
    status: str = ""


@dataclass(frozen=True)
class SummaryTable:
    """The run's summary table, the same data the terminal prints, with footnotes below it."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    status_column: str = "outcome"  # the column coloured by each row's status


@dataclass(frozen=True)
class Finding:
    """One difference (or failure) and the diagnosis its check reported, as plain text."""

    title: str
    status: str
    text: str


@dataclass(frozen=True)
class EnvironmentRow:
    """One recorded fact (`packages.numpy`) and its value in each run, in the table's label order."""

    key: str
    values: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class EnvironmentTable:
    """The environments of the compared runs, side by side, one row per recorded fact."""

    labels: tuple[str, ...]
    rows: tuple[EnvironmentRow, ...]
    caption: str = ""


@dataclass(frozen=True)
class ReportData:
    """Everything one report page shows; a section with nothing to show says why (`absent`).

    `variations` is a `pytest_repro.variations.VariationReport` when a hunt ran;
    `variation_rows` stand in for it when the `vary[...]` checks reported without one
    (inconclusive because the twins already differ).  `seed_metrics` maps each swept
    seed to its run-a metrics.
    """

    title: str
    context: tuple[str, ...]
    verdict: str
    passed: bool
    summary: SummaryTable | None = None
    findings: tuple[Finding, ...] = ()
    variations: Any = None
    variation_rows: tuple[Row, ...] = ()
    seed_metrics: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    environment: EnvironmentTable | None = None
    absent: Mapping[str, str] = field(default_factory=dict)
