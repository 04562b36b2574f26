"""`pytest --repro --repro-report=PATH` writes one self-contained page of what the session found.

The example projects train in process (a tiny forest on 90 rows), except under
pytest-xdist, where the page must come out the same from the workers' reports.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from html_report import ALLOWED_TAGS, read_page, summary_rows

# The summary rows of a twin session with the example's two artifacts, in collection order.
TWIN_ROWS = (
    "artifact[model]",
    "artifact[threshold]",
    "folds",
    "metrics",
    "lineage[run-a]",
    "lineage[run-b]",
    "replay",
)

# The threshold moves by a few parts in 10^12 from one run to the next.
PLANTED_THRESHOLD = "0.5 + time.perf_counter_ns() % 997 * 1e-12"
WALL_TIME = re.compile(r"\d+\.\d s")
README_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "local_time_training"


def test_passing_twins_give_a_page_with_the_terminal_summary_and_both_environments(example):
    example.write()

    result = example.run("--repro", "--repro-report=report.html", "-p", "no:randomly")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= reproducibility =*", "report: report.html"])
    page = read_page(example.path / "report.html")
    rows = summary_rows(page)
    assert [row[0] for row in rows] == list(TWIN_ROWS)
    # The same hashes and outcomes as the terminal table.
    for check, run_a, run_b, outcome, _ in rows:
        line = next(line for line in result.outlines if line.startswith(f"{check} "))
        assert line.split()[1:3] == [run_a, run_b] or not run_a
        assert outcome in line
    assert page.sections["differences"] == "Differencesnothing differs: no check failed"
    environment = {row[0]: row[1:] for row in page.tables["environment"][1:]}
    assert environment["environment.python"][0] == environment["environment.python"][1]
    # The replay had no recorded lineage: skipped, and counted as skipped, never as passed.
    assert "reproducible: every check that compared something passed (6 passed, 1 skipped)" in page.text


def test_a_planted_difference_is_shown_with_the_diagnosis_its_check_reported(example):
    example.write(threshold=PLANTED_THRESHOLD)

    result = example.run("--repro", "--repro-report=report.html", "-p", "no:randomly")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    page = read_page(example.path / "report.html")
    outcomes = {row[0]: row[3] for row in summary_rows(page)}
    assert outcomes["artifact[threshold]"] == "differs"
    differences = page.sections["differences"]
    assert "artifact[threshold] · differs" in differences
    # The failure's own text, as pytest printed it.
    terminal = result.stdout.str()
    for line in ("threshold differs: first difference at byte", "first differing line 1:"):
        assert line in differences
        assert line in terminal
    assert "NOT reproducible: 1 check failed: artifact[threshold]" in page.text


@pytest.mark.slow
def test_markup_in_a_config_path_and_a_metric_name_stays_text(example):
    hostile_metric = "<img src=x onerror=alert(1)>"
    hostile_config = "<svg onload=alert(2)>.yaml"
    example.write(
        ini={"repro_config": hostile_config},
        extra_metrics=f"{{{hostile_metric!r}: seed / 10}}",
    )

    result = example.run("--repro", "--repro-seeds=1-3", "--repro-report=report.html", "-p", "no:randomly")

    assert result.ret == pytest.ExitCode.OK
    page = read_page(example.path / "report.html")
    assert page.tag_names() <= ALLOWED_TAGS
    assert not [name for name in page.attribute_names() if name.startswith("on")]
    assert hostile_config in page.text  # the header's config line
    assert f"/{hostile_metric}" in page.sections["seeds"]  # the plot's label and the spread table


@pytest.mark.slow
def test_a_session_without_twins_still_writes_a_page_that_says_why(example):
    example.write(
        source="def train(config_path, output_dir, seed=None):\n    raise RuntimeError('no data')\n"
    )

    example.run("--repro", "--repro-report=report.html", "-p", "no:randomly")

    page = read_page(example.path / "report.html")
    assert "the twin runs failed" in page.sections["differences"]
    assert "no twin run finished" in page.sections["environment"]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (
            "missing/report.html",
            "--repro-report: the folder missing does not exist; create it or choose another path",
        ),
        ("out", "--repro-report: out is a folder; expected a file such as out/report.html"),
        (
            "config.yaml",
            "--repro-report: config.yaml is the training's config; the report never overwrites it*",
        ),
        ("pyproject.toml", "--repro-report: pyproject.toml is the ini file; the report never overwrites it*"),
        ("tinytrain.py", "--repro-report: tinytrain.py exists and is not a pytest-repro report*"),
    ],
)
def test_a_path_the_report_cannot_take_is_a_one_line_usage_error_before_anything_trains(
    example, argument, message
):
    example.write()
    (example.path / "out").mkdir()
    before = {path: path.read_bytes() for path in example.path.iterdir() if path.is_file()}

    result = example.run("--repro", f"--repro-report={argument}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, errors
    assert re.fullmatch(r"ERROR: " + re.escape(message).replace(r"\*", ".*"), errors[0]), errors[0]
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert {path: path.read_bytes() for path in before} == before


def test_the_ini_setting_names_itself_in_its_error(example):
    example.write(ini={"repro_report": "missing/report.html"})

    result = example.run("--repro")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ini repro_report: the folder missing does not exist*"])


def test_the_option_without_repro_is_a_usage_error(example):
    example.write()

    result = example.run("--repro-report=report.html")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --repro-report: the report shows what --repro checks; add --repro"])
    assert not (example.path / "report.html").exists()


@pytest.mark.slow
def test_a_second_session_replaces_its_own_earlier_report(example):
    example.write()
    first = example.run("--repro", "--repro-report=report.html", "-p", "no:randomly")
    written = (example.path / "report.html").read_text()

    second = example.run("--repro", "--repro-report=report.html", "-p", "no:randomly")

    assert first.ret == second.ret == pytest.ExitCode.OK
    # Byte for byte the same page, apart from the wall times, which truly vary.
    assert WALL_TIME.sub("T", (example.path / "report.html").read_text()) == WALL_TIME.sub("T", written)
    assert not [path.name for path in example.path.iterdir() if path.name.startswith(".report.html")]


@pytest.mark.slow
def test_under_xdist_the_page_holds_what_a_serial_session_shows(example):
    pytest.importorskip("xdist")
    example.write(isolation=None, threshold=PLANTED_THRESHOLD, extra_metrics="{'auc': 0.8 + seed / 1000}")
    options = ("--repro", "--repro-seeds=3-4", "--repro-vary=tz", "-p", "no:randomly")

    serial = example.run_subprocess(*options, "--repro-report=serial.html")
    parallel = example.run_subprocess("-n", "2", *options, "--repro-report=parallel.html")

    assert serial.ret == parallel.ret == pytest.ExitCode.TESTS_FAILED
    parallel.stdout.fnmatch_lines(["created: 2/2 workers", "report: parallel.html"])
    one, two = read_page(example.path / "serial.html"), read_page(example.path / "parallel.html")
    checks = [row[0] for row in summary_rows(two)]
    assert checks[:7] == list(TWIN_ROWS)
    assert checks[7:] == ["seed[3]", "seed[4]", "vary[tz]"]
    # Outcomes row by row as in the serial session (hashes differ: the threshold is planted).
    assert [row[0::3] for row in summary_rows(two)] == [row[0::3] for row in summary_rows(one)]
    assert "artifact[threshold] · differs" in two.sections["differences"]
    # The twins' environments reached the controller from a worker: PYTHONHASHSEED 1 and 2.
    environment = {row[0]: row[1:] for row in two.tables["environment"][1:]}
    assert environment["process.PYTHONHASHSEED"] == ["1", "2"]
    # The seed sweep's metrics came from the workers' reports too: the same plot and table.
    assert two.tables["seeds"] == one.tables["seeds"]
    assert [row[0] for row in two.tables["seeds"][1:]][-1] == "/auc"
    circles = [attrs for tag, attrs in two.tags if tag == "circle"]
    assert circles == [attrs for tag, attrs in one.tags if tag == "circle"] and circles
    # The twins differ, so the variation could blame nothing.
    assert "inconclusive" in two.sections["variations"]


@pytest.mark.slow
def test_the_readme_example_is_a_time_zone_bug_the_twins_cannot_see(example):
    shutil.copytree(README_EXAMPLE, example.path, dirs_exist_ok=True)

    result = example.run_subprocess(
        "--repro", "--repro-vary=tz", "--repro-report=report.html", "-p", "no:randomly"
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    page = read_page(example.path / "report.html")
    outcomes = {row[0]: row[3] for row in summary_rows(page)}
    assert (outcomes["artifact[model]"], outcomes["metrics"], outcomes["vary[tz]"]) == (
        "identical",
        "equal",
        "differs",
    )
    header, *rows = page.tables["variations"]
    tz = next(dict(zip(header, row, strict=True)) for row in rows if row[0] == "tz")
    assert (tz["model"], tz["metrics"]) == ("differs", "differs")
