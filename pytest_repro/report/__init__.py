"""The HTML report: one self-contained page a person can look at after `pytest --repro` or `repro-vary`.

The plugin and `repro-vary` only collect what happened into a `ReportData`; this
package turns it into one HTML file with inline CSS and inline SVG, nothing fetched
from a network, every user-controlled string escaped, and no time or machine path
added by the renderer itself.  The modules, one job each:

    model         the data a page shows (`ReportData` and its parts)
    collect       turning pytest reports' user properties and a variation hunt into that data
    markup        escaping and the few element helpers every section uses
    matrix        the variation matrix: variation x output, classified and rendered
    spread_plot   the seed sweep's spread as a small inline SVG
    environments  the two runs' recorded environments, side by side
    page          the page itself: stylesheet, header, and the sections in order
    target        where a report may be written (never over an input), and the atomic write
"""

from __future__ import annotations

from pytest_repro.report.model import EnvironmentTable, Finding, ReportData, SummaryTable
from pytest_repro.report.page import render_html
from pytest_repro.report.target import ReportPathError, check_report_path, write_report

__all__ = [
    "EnvironmentTable",
    "Finding",
    "ReportData",
    "ReportPathError",
    "SummaryTable",
    "check_report_path",
    "render_html",
    "write_report",
]
