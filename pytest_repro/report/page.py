"""The page: one HTML document with its stylesheet inline, and the sections in a fixed order.

Self-contained on purpose: the report is opened from a CI artifact or a mail
attachment, often offline, so nothing is fetched (a Content-Security-Policy forbids
it, and forbids scripts: the page has none).  The renderer adds no time, host or
path of its own, so the same results always give the same bytes.
"""

from __future__ import annotations

from pytest_repro.report.environments import render_environment
from pytest_repro.report.markup import cell, note, section, status_class, table, text
from pytest_repro.report.matrix import render_matrix, render_unhunted
from pytest_repro.report.model import Finding, ReportData, SummaryTable
from pytest_repro.report.spread_plot import render_seed_section
from pytest_repro.report.target import GENERATOR_TAG

SECTIONS = (
    ("summary", "Summary"),
    ("differences", "Differences"),
    ("variations", "Variation matrix"),
    ("seeds", "Seed sweep"),
    ("environment", "Environment"),
)
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
:root { color-scheme: light; --good: #1a7f37; --good-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9;
  --warn: #9a6700; --warn-bg: #fff8c5; --muted: #57606a; --muted-bg: #f0f2f4; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  background: #f6f8fa; }
header { padding: 18px 28px 12px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 6px; font-size: 22px; }
h2 { margin: 0 0 10px; font-size: 17px; }
main { padding: 8px 28px 28px; max-width: 1280px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px;
  margin: 14px 0; }
nav a { margin-right: 14px; color: #0969da; text-decoration: none; }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 6px; font-weight: 600; margin: 4px 0 8px; }
.verdict.good { background: var(--good-bg); color: var(--good); }
.verdict.bad { background: var(--bad-bg); color: var(--bad); }
.context { margin: 0 0 8px; padding: 0; list-style: none; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo,
  monospace; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
table.compact { width: auto; min-width: 50%; }
th, td { text-align: left; padding: 5px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
tbody th { font-weight: 500; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
td.hash, td.value, td.number { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
td.number { text-align: right; }
.scroll { overflow-x: auto; }
.good { color: var(--good); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.muted { color: var(--muted); } .muted-text { color: var(--muted); }
td.state { text-align: center; font-weight: 600; white-space: nowrap; }
td.state.good { background: var(--good-bg); } td.state.bad { background: var(--bad-bg); }
td.state.warn { background: var(--warn-bg); } td.state.muted { background: var(--muted-bg); }
td.outcome { font-weight: 600; }
tr.differs th, tr.differs td { background: var(--warn-bg); }
.badge { display: inline-block; min-width: 96px; text-align: center; padding: 1px 6px; border-radius: 4px;
  font-weight: 600; font-size: 12px; }
.badge.good { background: var(--good-bg); } .badge.bad { background: var(--bad-bg); }
.badge.warn { background: var(--warn-bg); } .badge.muted { background: var(--muted-bg); }
.legend { list-style: none; padding: 0; margin: 10px 0 0; columns: 2; font-size: 13px; }
.legend li { margin: 2px 0; }
.note { color: var(--muted); margin: 8px 0 0; }
details { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details > summary { cursor: pointer; padding: 6px 10px; font-weight: 600; background: #f6f8fa; }
pre { margin: 0; padding: 10px 12px; overflow-x: auto; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo,
  monospace; white-space: pre; }
svg.spread { display: block; max-width: 100%; margin: 8px 0 12px; }
svg.spread text { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; fill: #1f2328; }
svg.spread text.bound { fill: var(--muted); font-size: 11px; }
svg.spread text.end { text-anchor: end; }
svg.spread .axis { stroke: #8c959f; stroke-width: 1; }
svg.spread .band { fill: #0969da; fill-opacity: 0.14; }
svg.spread .mean { stroke: #0969da; stroke-width: 2; }
svg.spread circle { fill: #0969da; fill-opacity: 0.75; stroke: #fff; stroke-width: 1; }
"""


def render_html(data: ReportData) -> str:
    """The whole page for `data`, as one string (UTF-8 when written)."""
    verdict_class = "good" if data.passed else "bad"
    context = "".join(f"<li>{text(line)}</li>" for line in data.context)
    links = "".join(f'<a href="#{anchor}">{text(heading)}</a>' for anchor, heading in SECTIONS)
    body = "".join(
        (
            section("summary", "Summary", _summary(data)),
            section("differences", "Differences", _findings(data)),
            section("variations", "Variation matrix", _variations(data)),
            section("seeds", "Seed sweep", _seeds(data)),
            section("environment", "Environment", _environment(data)),
        )
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"{GENERATOR_TAG}"
        f'<meta http-equiv="Content-Security-Policy" content="{text(POLICY)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(data.title)}</title><style>{STYLE}</style></head>"
        f"<body><header><h1>{text(data.title)}</h1>"
        f'<div class="verdict {verdict_class}" id="verdict">{text(data.verdict)}</div>'
        f'<ul class="context">{context}</ul><nav>{links}</nav></header>'
        f"<main>{body}</main></body></html>\n"
    )


def _summary(data: ReportData) -> str:
    if data.summary is None or not data.summary.rows:
        return note(data.absent.get("summary", "no check reported a result"))
    return _summary_table(data.summary)


def _summary_table(summary: SummaryTable) -> str:
    columns = summary.columns
    outcome_column = columns.index(summary.status_column) if summary.status_column in columns else -1
    hash_columns = {i for i, column in enumerate(summary.columns) if column in ("run-a", "run-b")}
    rows = []
    for row in summary.rows:
        cells = []
        for index, value in enumerate(row.cells):
            if index == 0:
                cells.append(cell(text(value), tag="th"))
            elif index == outcome_column:
                cells.append(cell(text(value), cls=f"outcome {status_class(row.status)}"))
            else:
                cells.append(cell(text(value), cls="hash" if index in hash_columns else ""))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    notes = "".join(note(line) for line in summary.notes)
    return f'<div class="scroll">{table(summary.columns, rows, cls="summary")}</div>{notes}'


def _findings(data: ReportData) -> str:
    if not data.findings:
        return note(data.absent.get("differences", "nothing differs: no check failed"))
    return "".join(_finding(finding) for finding in data.findings)


def _finding(finding: Finding) -> str:
    status = f'<span class="{status_class(finding.status)}">{text(finding.status)}</span>'
    return f"<details open><summary>{text(finding.title)} · {status}</summary><pre>{text(finding.text)}</pre></details>"


def _variations(data: ReportData) -> str:
    if data.variations is not None:
        return render_matrix(data.variations)
    if data.variation_rows:
        return render_unhunted(data.variation_rows)
    return note(data.absent.get("variations", "no variation hunt ran"))


def _seeds(data: ReportData) -> str:
    if len(data.seed_metrics) < 2:
        return note(data.absent.get("seeds", "no seed sweep ran"))
    return render_seed_section(data.seed_metrics)


def _environment(data: ReportData) -> str:
    if data.environment is None or not data.environment.rows:
        return note(data.absent.get("environment", "no run recorded its environment"))
    return render_environment(data.environment)
