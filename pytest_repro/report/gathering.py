"""Turning what a run reported into a `ReportData`: pytest's reports, or a `repro-vary` hunt.

Under pytest-xdist the checks run in workers and only their reports reach the
controller, so everything the page needs travels in a report: the summary rows and
seed metrics (as for the terminal summary), the failure text (`longreprtext`), and,
only when a report was asked for, two more user properties set by the checks: the
twins' recorded environments and the variation hunt's result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pytest_repro.core.environment_names import N_JOBS_VARIABLE, ROW_ORDER_VARIABLE, THREAD_VARIABLES
from pytest_repro.core.outcomes import Outcome
from pytest_repro.core.run_records import RunRecord
from pytest_repro.errors import ReproError
from pytest_repro.report.environments import environment_table
from pytest_repro.report.model import EnvironmentRow, EnvironmentTable, Finding, ReportData, Row, SummaryTable
from pytest_repro.variations.report import (
    TOGETHER_NOTE,
    VariationReport,
    outcome_detail_lines,
    table_rows,
    verdict,
)

RUNS_PROPERTY = "repro_report_runs"
VARIATIONS_PROPERTY = "repro_report_variations"
# The variables a run's outcome may depend on that the launcher or the user sets; the
# rest of the process environment (tokens, paths) never enters a report.
PROCESS_VARIABLES = (
    "PYTHONHASHSEED",
    *THREAD_VARIABLES,
    N_JOBS_VARIABLE,
    ROW_ORDER_VARIABLE,
    "TZ",
    "LC_ALL",
    "LANG",
    "OPENBLAS_CORETYPE",
    "MKL_CBWR",
    "NPY_DISABLE_CPU_FEATURES",
)
# The terminal summary's columns, and the key of each in a summary row.
SUMMARY_COLUMNS = {"check": "check", "run-a": "a", "run-b": "b", "outcome": "outcome", "detail": "detail"}
# Markers of the checks whose failures are differences worth showing (generated or user tests).
REPRO_KEYWORDS = ("repro", "repro_probe", "lineage")
PYTEST_ABSENT = {
    "summary": "no reproducibility check reported a result (pytest --repro runs them)",
    "variations": "no variation hunt ran (pytest --repro --repro-vary=all runs one)",
    "seeds": "no seed sweep ran (pytest --repro --repro-seeds=0-4 runs one)",
    "environment": "no twin run finished, so no environment was recorded",
}


def run_environment(run: RunRecord) -> dict[str, Any]:
    """What one run recorded: its lineage's environment and code version, and the variables it ran with."""
    from pytest_repro.lineage.manifest import read_lineage

    record: dict[str, Any] = {
        "process": {name: run.environment[name] for name in PROCESS_VARIABLES if name in run.environment},
        "wall time": f"{run.seconds:.1f} s",
    }
    if run.lineage is None:
        record["lineage"] = "none returned"
        return record
    try:
        lineage = read_lineage(run.lineage)
    except (ReproError, OSError) as exc:
        record["lineage"] = f"unreadable: {exc}"
        return record
    record["environment"] = lineage.get("environment") or {}
    record["code"] = lineage.get("code")
    return record


def runs_property(runs: Iterable[RunRecord]) -> str:
    """The user property a twin check attaches: each run's environment by label."""
    return json.dumps({run.label: run_environment(run) for run in runs}, sort_keys=True)


class PytestCollector:
    """What the controller saw in the reports, beyond the summary rows the session keeps."""

    def __init__(self) -> None:
        self.failures: dict[str, tuple[str, str]] = {}  # nodeid -> (when, text)
        self.pytest_outcomes: dict[str, str] = {}  # nodeid -> passed | failed | skipped, as pytest counts it
        self.runs: dict[str, Any] | None = None
        self.variations: dict[str, Any] | None = None

    def observe(self, report: Any) -> None:
        """Keep a failing repro check's text, and the first runs and hunt any check attached."""
        for name, value in report.user_properties:
            if name == RUNS_PROPERTY and self.runs is None:
                self.runs = json.loads(value)
            elif name == VARIATIONS_PROPERTY and self.variations is None:
                self.variations = json.loads(value)
        # The worst of a test's phases, as pytest's own summary counts it.
        if (report.when == "call" or not report.passed) and self.pytest_outcomes.get(
            report.nodeid
        ) != "failed":
            self.pytest_outcomes[report.nodeid] = report.outcome
        if report.failed and any(keyword in report.keywords for keyword in REPRO_KEYWORDS):
            self.failures.setdefault(report.nodeid, (report.when, report.longreprtext))

    def data(
        self,
        *,
        context: Iterable[str],
        rows: Iterable[Mapping[str, Any]],
        row_nodeids: Mapping[str, str],
        twin_seconds: str | None,
        seed_metrics: Mapping[int, Any],
        order: Callable[[str], int],
    ) -> ReportData:
        """The page of a pytest session; `rows` in collection order, `order` ranks a node id."""
        rows = list(rows)
        by_nodeid = {row_nodeids[row["check"]]: row for row in rows}
        findings = tuple(
            _finding(nodeid, when, text, by_nodeid.get(nodeid))
            for nodeid, (when, text) in sorted(self.failures.items(), key=lambda item: order(item[0]))
        )
        notes = (f"twin runs: wall time {twin_seconds} s",) if twin_seconds is not None else ()
        summary = SummaryTable(
            tuple(SUMMARY_COLUMNS),
            tuple(
                Row(tuple(str(row.get(key, "")) for key in SUMMARY_COLUMNS.values()), row["outcome"])
                for row in rows
            ),
            notes,
        )
        variation_rows = tuple(
            Row((row["check"], row["outcome"], row.get("detail", "")), row["outcome"])
            for row in rows
            if row["check"].startswith("vary[")
        )
        return ReportData(
            title="pytest-repro report",
            context=tuple(context),
            verdict=_pytest_verdict(
                findings, [self.pytest_outcomes.get(row_nodeids[r["check"]], "") for r in rows]
            ),
            passed=not findings
            and "passed" in (self.pytest_outcomes.get(row_nodeids[r["check"]]) for r in rows),
            summary=summary,
            findings=findings,
            variations=VariationReport.from_json(self.variations) if self.variations else None,
            variation_rows=variation_rows,
            seed_metrics=dict(seed_metrics),
            environment=environment_table(self.runs, "the twins, as their lineages recorded them")
            if self.runs
            else None,
            absent=PYTEST_ABSENT,
        )


def _finding(nodeid: str, when: str, text: str, row: Mapping[str, Any] | None) -> Finding:
    if row is not None:
        return Finding(row["check"], row["outcome"], text)
    return Finding(nodeid, Outcome.FAILED.value, text)


def _pytest_verdict(findings: tuple[Finding, ...], outcomes: list[str]) -> str:
    """The page's badge: what failed, or how many checks passed and how many compared nothing."""
    if findings:
        names = ", ".join(finding.title for finding in findings[:6])
        more = f" and {len(findings) - 6} more" if len(findings) > 6 else ""
        return (
            f"NOT reproducible: {len(findings)} check{'s' if len(findings) > 1 else ''} failed: {names}{more}"
        )
    if not outcomes:
        return "no reproducibility check ran"
    passed, skipped = outcomes.count("passed"), outcomes.count("skipped")
    counts = f"{passed} passed, {skipped} skipped" if skipped else f"{passed} passed"
    if not passed:
        return f"nothing compared: every check was skipped ({counts})"
    return f"reproducible: every check that compared something passed ({counts})"


def vary_data(report: VariationReport, *, config: str, rerun: str) -> ReportData:
    """The page of a `repro-vary` hunt: its table, each change in full, the matrix and each run's sides."""
    table = SummaryTable(
        ("variation", "reference → varied", "result", "what differed"),
        tuple(
            Row((name, change.replace(" -> ", " → "), status, what), status)
            for name, change, status, what in table_rows(report)
        ),
        (TOGETHER_NOTE,)
        if any(o.tested == "together" and o.status is Outcome.IDENTICAL for o in report.outcomes.values())
        else (),
        status_column="result",
    )
    shown = [*report.outcomes.values(), *(o for o in (report.combined, report.control) if o is not None)]
    findings = tuple(
        Finding(
            f"{outcome.name}: {outcome.reference} → {outcome.varied}",
            outcome.status.value,
            "\n".join(
                line[2:] if line.startswith("  ") else line for line in outcome_detail_lines(outcome)[1:]
            ),
        )
        for outcome in shown
        if outcome.differences or outcome.error
    )
    sides = EnvironmentTable(
        ("reference", "varied"),
        tuple(EnvironmentRow(o.name, (o.reference, o.varied)) for o in report.outcomes.values()),
        "each varied run differs from the reference in exactly one thing (the all-at-once run in all of them)",
    )
    seed = report.seed if report.seed is not None else "the config's"
    context = (
        f"entry {report.entry}, config {config}, seed {seed}, tolerance {report.tolerance:g}",
        f"{report.trainings} trainings; rerun with: {rerun}",
    )
    return ReportData(
        title="repro-vary report",
        context=context,
        verdict=verdict(report),
        passed=report.reproducible,
        summary=table,
        findings=findings,
        variations=report,
        environment=sides,
        absent={"seeds": "repro-vary runs no seed sweep (pytest --repro --repro-seeds=0-4 does)"},
    )
