"""Every verdict tells the truth (issue 21): no verdict without evidence, and one cause, one failure.

The same nearest-centroid model is trained by a script (`repro_command`) and by a
function (`repro_train`) in a repository-shaped project (`support/script_projects.py`);
each behaviour is checked for both kinds where it applies to both.
"""

from __future__ import annotations

import hashlib
import os
import xml.etree.ElementTree as ElementTree

import pytest
from html_report import read_page, summary_rows
from script_projects import MODEL, command_ini, function_ini, script_project

KINDS = {"command": command_ini, "function": function_ini}


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--repro", "-p", "no:cacheprovider", "-p", "no:randomly", *args)


def rows_of(result: pytest.RunResult) -> dict[str, str]:
    """The reproducibility table's rows, by check: the rest of the line after the check's name."""
    lines = result.outlines
    start = (
        next(i for i, line in enumerate(lines) if line.split() == ["check", "run-a", "run-b", "outcome"]) + 1
    )
    table = {}
    for line in lines[start:]:
        if not line or line.startswith(("twin runs:", "=")):
            break
        check, _, rest = line.partition(" ")
        table[check] = " ".join(rest.split())
    return table


# ----------------------------------------------------------------------------- no verdict without evidence


@pytest.mark.parametrize("kind", KINDS)
def test_no_metrics_source_skips_the_metrics_check_and_the_report_counts_it_as_skipped(pytester, kind):
    # A command without repro_metrics, a function that returns no metrics: nothing to compare.
    script_project(pytester.path, KINDS[kind](), function_returns_metrics=False)

    result = run(pytester, "--repro-report=report.html", "--junitxml=junit.xml", "-rs")

    reason = "no metrics configured" if kind == "command" else "the training returns no metrics"
    assert rows_of(result)["metrics"] == f"skipped: {reason}", result.stdout.str()
    result.stdout.fnmatch_lines([f"SKIPPED [[]1] pyproject.toml:1: {reason}*"])
    page = read_page(pytester.path / "report.html")
    assert "(3 passed, 4 skipped)" in page.text
    assert "every check passed (7 checks)" not in page.text
    metrics_row = next(row for row in summary_rows(page) if row[0] == "metrics")
    assert metrics_row[3] == "skipped"
    # The JUnit XML carries the same outcome word.
    tree = ElementTree.parse(pytester.path / "junit.xml")
    outcomes = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}.get("repro_outcome")
        for case in tree.iter("testcase")
    }
    assert outcomes["metrics"] == "skipped"
    assert outcomes["artifacts"] == "identical"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("metrics.yaml", marks=pytest.mark.slow),
        "metrics.csv",
        pytest.param("metrics-wide.csv", marks=pytest.mark.slow),
    ],
)
def test_a_commands_metrics_file_is_read_as_yaml_or_csv_by_its_extension(pytester, name):
    ini = command_ini((MODEL, f"reports/{name}"), repro_metrics=f"reports/{name}")
    script_project(pytester.path, ini, noise="random.random()", metrics=name)

    result = run(pytester, "-m", "repro")

    result.stdout.fnmatch_lines(
        ["*_ repro metrics _*", "metrics differ: 1 of 2 values differ, largest |Δ| * at /f1"]
    )
    assert rows_of(result)["metrics"].split()[2] == "differs"


def test_a_metrics_file_of_an_unknown_kind_is_one_usage_error(pytester):
    script_project(pytester.path, command_ini(repro_metrics="reports/metrics.txt"))

    result = run(pytester)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: repro_metrics 'reports/metrics.txt': expected a JSON (.json), YAML (.yaml, .yml) or CSV*"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_variation_that_varies_nothing_says_not_exercised_or_not_applicable(
    pytester, monkeypatch, tmp_path_factory, kind
):
    # A machine whose locales all sort by code point, whatever this one has: `locale -a` lists only those.
    stub = tmp_path_factory.mktemp("stub-bin")
    (stub / "locale").write_text("#!/bin/sh\nprintf 'C\\nC.utf8\\nPOSIX\\n'\n")
    (stub / "locale").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub}{os.pathsep}{os.environ['PATH']}")
    script_project(pytester.path, KINDS[kind]())

    result = run(pytester, "--repro-vary=n_jobs,workers,cwd,locale,row_order,tz")

    table = rows_of(result)
    assert table["vary[locale]"].startswith("not exercised: only C, C.utf8, POSIX installed"), table
    assert table["vary[row_order]"].startswith("not exercised: the training "), table
    assert table["vary[n_jobs]"].startswith("not exercised: the training "), table
    assert table["vary[workers]"].startswith("not exercised: the training "), table
    assert table["vary[tz]"].startswith("identical (TZ=UTC -> GMT-14"), table
    if kind == "command":
        assert table["vary[cwd]"] == (
            "not applicable: a command always runs from its own copy of the project "
            "(the path variation moves that copy)"
        )
    else:
        # The twins showed the function never reads REPRO_ROW_ORDER_SEED: it is not even trained.
        assert table["vary[cwd]"].startswith("identical (the project folder -> an empty folder elsewhere")
        result.stdout.fnmatch_lines(["[[]repro vary] training 2 runs: reference, all"])
    assert result.ret == pytest.ExitCode.OK


# ----------------------------------------------------------------------------- one cause, one failure


@pytest.mark.parametrize("kind", KINDS)
def test_a_crashing_training_fails_one_check_with_its_last_output_and_the_rest_are_not_run(pytester, kind):
    script_project(pytester.path, KINDS[kind](), crash=True)

    result = run(pytester, "-rs")

    result.assert_outcomes(failed=1, skipped=7)
    result.stdout.fnmatch_lines(
        [
            "*_ repro artifacts _*",
            "the twin runs failed:",
            "run-a: training exited with status 1; the end of its output:",
            "loading data/train.csv",
            "*RuntimeError: data/train.csv: no column named age",
            "[[]run-b failed the same way]",
        ]
    )
    table = rows_of(result)
    assert table["artifacts"] == (
        "failed (run-a: training exited with status 1: RuntimeError: data/train.csv: no column named age)"
    )
    assert {table[check] for check in ("folds", "metrics", "lineage[run-a]", "lineage[run-b]", "replay")} == {
        "not run: run-a failed"
    }
    # The error is told once, in the one failure (and once per run as it was relayed live).
    failure_lines = [line for line in result.outlines if line.endswith("no column named age")]
    assert len([line for line in failure_lines if not line.startswith("[repro ")]) == 1


def test_an_output_glob_that_matches_nothing_is_one_failure_naming_what_the_command_wrote(pytester):
    script_project(pytester.path, command_ini(("models/*.pkl", "reports/metrics.json")))

    result = run(pytester)

    result.assert_outcomes(failed=1, passed=0, skipped=7)
    result.stdout.fnmatch_lines(
        [
            "run-a: repro_outputs 'models/*.pkl' matched no file the command wrote; it wrote 2 files: "
            "models/centroids.json, reports/metrics.json",
            "[[]run-b failed the same way]",
        ]
    )


@pytest.mark.slow
def test_a_seed_command_without_a_seed_is_one_usage_error_and_repro_seed_gives_it_one(pytester):
    script_project(pytester.path, command_ini().replace("src/train.py", "src/train.py --seed {seed}"))

    refused = run(pytester)

    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(
        ["ERROR: pytest --repro: repro_command uses {seed}, but no seed is known: set repro_seed*"]
    )
    with (pytester.path / "pyproject.toml").open("a", encoding="utf-8") as ini:
        ini.write('repro_seed = "7"\nrepro_seed_sensitivity = "fail"\n')

    result = run(pytester)

    result.stdout.fnmatch_lines(
        [
            "repro: on; entry command: python src/train.py --seed {seed}, no config, seed 7",
            "repro: rerun with: pytest --repro --repro-seed 7",
        ]
    )
    assert rows_of(result)["seed-sensitivity"].startswith("seed used (seed 8 changed ")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_the_ini_seed_reaches_a_function_training(pytester):
    script_project(pytester.path, function_ini(repro_seed="7"))

    result = run(pytester, "-m", "repro")

    result.stdout.fnmatch_lines(["repro: on; entry pipeline:train, no config, seed 7"])
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


@pytest.mark.parametrize(
    "kind", [pytest.param(kind, marks=[pytest.mark.slow] * (kind == "function")) for kind in KINDS]
)
def test_a_summary_row_names_only_the_outputs_that_differ_and_each_digest_checks_with_sha256sum(
    pytester, kind
):
    script_project(pytester.path, KINDS[kind](), noise="random.random()")

    result = run(pytester, "-m", "repro")

    row = rows_of(result)["artifacts"]
    assert row == "2 files 2 files differs (1 of 2 artifacts: reports/metrics.json)", row
    # The identical model's digest is the one sha256sum prints for the file either run wrote.
    folder = next(pytester.path.parent.glob("basetemp/repro-shared/*/run-a"))
    model = next(path for path in folder.rglob("centroids.json"))
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    result.stdout.fnmatch_lines(
        [
            "sha256 of each output (check with sha256sum):",
            f"  {MODEL}: {digest} in both runs",
            "  reports/metrics.json: run a * run b *",
        ]
    )


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
def test_one_output_shows_its_own_digest_in_the_table(pytester):
    script_project(pytester.path, command_ini((MODEL,)))

    result = run(pytester, "-m", "repro")

    model = next(pytester.path.parent.glob(f"basetemp/repro-shared/*/run-a/project/{MODEL}"))
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
    assert rows_of(result)["artifacts"] == f"{digest} {digest} identical (1 artifact: {MODEL})"
