"""The page itself: every user string escaped, the same data gives the same bytes, and each section tells the truth."""

from __future__ import annotations

import re

import pytest
from html_report import ALLOWED_TAGS, read_page

from pytest_repro.diagnose.difference import Difference
from pytest_repro.report import Finding, ReportData, SummaryTable, render_html
from pytest_repro.report.environments import environment_table
from pytest_repro.report.matrix import matrix_rows
from pytest_repro.report.model import Row
from pytest_repro.variations.report import VariationReport, VariationResult

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "</pre></details><iframe src=//example.com></iframe>",
    "' onmouseover='alert(3)",
    "]]><svg onload=alert(4)>",
]


def hostile_report() -> VariationReport:
    """A hunt whose every free-text field carries markup."""
    differs = VariationResult(
        "tz",
        HOSTILE[0],
        HOSTILE[1],
        "differs",
        "alone",
        differences=(Difference(HOSTILE[2], HOSTILE[3], (HOSTILE[4],)),),
    )
    return VariationReport(
        entry=HOSTILE[0],
        config=HOSTILE[1],
        seed=3,
        tolerance=0.0,
        selected=("tz",),
        outcomes={"tz": differs},
        combined=None,
        control=None,
        trainings=2,
        outputs=(HOSTILE[2], "metrics"),
    )


def hostile_data() -> ReportData:
    return ReportData(
        title="pytest-repro report",
        context=tuple(f"repro: config {text}" for text in HOSTILE),
        verdict=HOSTILE[1],
        passed=False,
        summary=SummaryTable(
            ("check", "run-a", "run-b", "outcome", "detail"),
            tuple(Row((text, "ab", "cd", "differs", text), "differs") for text in HOSTILE),
            notes=(HOSTILE[3],),
        ),
        findings=tuple(Finding(text, "differs", f"metrics differ:\n  /{text}: 1 != 2") for text in HOSTILE),
        variations=hostile_report(),
        seed_metrics={seed: {text: seed * 0.1 + i for i, text in enumerate(HOSTILE)} for seed in range(3)},
        environment=environment_table(
            {"run-a": {"process": {"LANG": HOSTILE[0]}}, "run-b": {"process": {"LANG": HOSTILE[4]}}}
        ),
    )


def test_markup_in_any_user_string_is_shown_as_text_and_never_becomes_an_element():
    page = read_page(render_html(hostile_data()))

    assert page.tag_names() <= ALLOWED_TAGS
    assert not [name for name in page.attribute_names() if name.startswith("on")]
    assert not any(tag in ("script", "iframe", "img") for tag in page.tag_names())
    # Each hostile string reached the reader intact, as text.
    for text in HOSTILE:
        assert text in page.text


def test_the_page_fetches_nothing_and_runs_no_script():
    markup = render_html(hostile_data())
    page = read_page(markup)

    policy = next(
        attrs["content"] for tag, attrs in page.tags if attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    linked = [attrs for tag, attrs in page.tags if tag in ("link", "script", "img", "a") and "src" in attrs]
    assert linked == []
    assert [attrs["href"] for tag, attrs in page.tags if tag == "a"] == [
        "#summary",
        "#differences",
        "#variations",
        "#seeds",
        "#environment",
    ]
    assert not re.search(r"(?i)https?://(?!www\.w3\.org/2000/svg)", markup.replace("//example.com", ""))


def test_the_same_data_renders_the_same_bytes():
    assert render_html(hostile_data()).encode() == render_html(hostile_data()).encode()


def test_each_output_of_each_variation_gets_its_own_cell():
    model = Difference("model", "model differs: 3 attribute paths differ")
    metrics = Difference("metrics", "metrics differ: 1 of 4 values")
    report = VariationReport(
        entry="t:train",
        config="config.yaml",
        seed=None,
        tolerance=0.0,
        selected=("hashseed", "n_jobs", "tz", "locale", "umask", "row_order", "blas_kernel"),
        outcomes={
            "hashseed": VariationResult("hashseed", "1", "2", "differs", "alone", differences=(model,)),
            "tz": VariationResult("tz", "UTC", "GMT-14", "identical", "together"),
            "locale": VariationResult("locale", "C", "C", "not exercised", "alone", note="only C here"),
            "umask": VariationResult(
                "umask", "022", "002", "failed", "alone", error="Traceback\nOSError: nope"
            ),
            "row_order": VariationResult(
                "row_order", "file", "shuffled", "changed", "alone", differences=(metrics,)
            ),
            "n_jobs": VariationResult(
                "n_jobs", "1", "2", "not exercised", "together", note="never read REPRO_N_JOBS"
            ),
            "blas_kernel": VariationResult(
                "blas_kernel", "SkylakeX", "Haswell", "portability", "alone", differences=(model,)
            ),
        },
        combined=VariationResult(
            "all", "reference", "4 at once", "differs", "together", differences=(model,)
        ),
        control=VariationResult("control", "reference", "reference again", "identical", "alone"),
        trainings=7,
        outputs=("model", "folds", "metrics"),
    )

    columns, rows = matrix_rows(report)

    assert columns == ("model", "folds", "metrics")
    states = {row.name: [cell.state for cell in row.cells] for row in rows}
    assert states == {
        "hashseed": ["differs", "identical", "identical"],
        "tz": ["identical", "identical", "identical"],
        "locale": ["not exercised"] * 3,
        "umask": ["failed"] * 3,
        "row_order": ["identical", "identical", "changed"],
        "n_jobs": ["not exercised"] * 3,
        "blas_kernel": ["portability", "identical", "identical"],
        "(all at once)": ["differs", "identical", "identical"],
        "(control)": ["identical", "identical", "identical"],
    }
    by_name = {row.name: row for row in rows}
    assert by_name["hashseed"].cells[0].reason == "model differs: 3 attribute paths differ"
    assert by_name["umask"].cells[0].reason == "Traceback"
    assert by_name["tz"].tested == "all at once"


def test_a_control_that_differs_makes_the_variations_inconclusive_in_the_matrix():
    metrics = Difference("metrics", "metrics differ")
    report = VariationReport(
        entry="t:train",
        config="config.yaml",
        seed=None,
        tolerance=0.0,
        selected=("tz",),
        outcomes={
            "tz": VariationResult("tz", "UTC", "GMT-14", "inconclusive", "alone", differences=(metrics,))
        },
        combined=None,
        control=VariationResult(
            "control", "reference", "reference again", "differs", "alone", differences=(metrics,)
        ),
        trainings=3,
        outputs=("model", "metrics"),
    )

    _, rows = matrix_rows(report)

    assert [cell.state for cell in rows[0].cells] == ["inconclusive", "inconclusive"]
    assert [cell.state for cell in rows[-1].cells] == ["identical", "differs"]


def test_the_seed_plot_draws_one_dot_per_seed_for_each_metric_that_moves():
    metrics = {
        seed: {"auc": 0.8 + seed / 100, "loss": 1 / (seed + 1), "rows": 90, "seed": seed} for seed in range(4)
    }
    data = ReportData(title="t", context=(), verdict="v", passed=True, seed_metrics=metrics)

    page = read_page(render_html(data))

    circles = [attrs for tag, attrs in page.tags if tag == "circle"]
    assert len(circles) == 4 * 2  # auc and loss; rows is constant and seed echoes the seed
    assert "1 metric constant across seeds not shown" in page.sections["seeds"]
    assert page.tables["seeds"][1:] == [
        ["/auc", "0.815", "0.0129099", "0.8", "0.83"],
        ["/loss", "0.520833", "0.335927", "0.25", "1"],
    ]


def test_the_environment_table_marks_only_the_facts_that_differ():
    table = environment_table(
        {
            "run-a": {
                "process": {"PYTHONHASHSEED": "1"},
                "environment": {"python": "3.11.7", "packages": {"numpy": "2.4.6"}},
            },
            "run-b": {
                "process": {"PYTHONHASHSEED": "2"},
                "environment": {"python": "3.11.7", "packages": {}},
            },
        }
    )

    assert [(row.key, row.values, row.differs) for row in table.rows] == [
        ("process.PYTHONHASHSEED", ("1", "2"), True),
        ("environment.packages", ("(not recorded)", "{}"), True),
        ("environment.packages.numpy", ("2.4.6", "(not recorded)"), True),
        ("environment.python", ("3.11.7", "3.11.7"), False),
    ]


@pytest.mark.parametrize("section", ["summary", "differences", "variations", "seeds", "environment"])
def test_an_empty_section_says_why(section):
    data = ReportData(
        title="t", context=(), verdict="v", passed=True, absent={section: f"nothing for {section}"}
    )

    page = read_page(render_html(data))

    assert f"nothing for {section}" in page.sections[section]
