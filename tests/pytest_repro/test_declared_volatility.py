"""Declared volatility (`repro_ignore`): what may differ by design is set aside in plain view, never silently.

The same nearest-centroid model is trained by a script and by a function
(`support/script_projects.py`); with `metadata=True` both also write
`reports/metadata.json`, whose `created_at` is the wall clock: volatile by design.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ElementTree

import pytest
from html_report import read_page, summary_rows
from script_projects import MODEL, command_ini, function_ini, script_project
from tree_snapshot import describe_difference, snapshot

from pytest_repro.diagnose.declared import IgnoreError, Volatility, parse_rule, parse_rules

OUTPUTS = (MODEL, "reports/metrics.json", "reports/metadata.json")
KINDS = {"command": lambda **s: command_ini(OUTPUTS, **s), "function": function_ini}
# Both kinds, the function's under `-m slow` only: the default run must stay under a minute.
COMMAND_FIRST = [pytest.param("command"), pytest.param("function", marks=pytest.mark.slow)]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--repro", "-p", "no:cacheprovider", "-p", "no:randomly", "-m", "repro", *args)


def junit_properties(path) -> dict[str, dict[str, str]]:
    tree = ElementTree.parse(path)
    return {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in tree.iter("testcase")
    }


@pytest.mark.parametrize("kind", KINDS)
def test_a_wall_clock_stamp_passes_when_declared_and_says_so_everywhere(pytester, kind):
    ini = KINDS[kind](repro_ignore="reports/metadata.json:/created_at")
    script_project(pytester.path, ini, metadata=True)
    before = snapshot(pytester.path)

    result = run(pytester, "--repro-report=report.html", "--junitxml=junit.xml")

    assert result.ret == 0, result.stdout.str()
    shown = "ignored (declared): reports/metadata.json:/created_at"
    result.stdout.fnmatch_lines([f"artifacts *{shown}*"])
    properties = junit_properties(pytester.path / "junit.xml")["artifacts"]
    assert properties["repro_outcome"] == "ignored (declared)"
    assert properties["repro_ignored"] == "reports/metadata.json:/created_at"
    row = next(row for row in summary_rows(read_page(pytester.path / "report.html")) if row[0] == "artifacts")
    assert "ignored (declared)" in " ".join(row)
    after = {k: v for k, v in snapshot(pytester.path).items() if k not in ("report.html", "junit.xml")}
    before.pop(".")
    after.pop(".")  # the session's own report and JUnit file are new entries of the root folder
    assert describe_difference(before, after) == ""


@pytest.mark.slow
@pytest.mark.parametrize("kind", COMMAND_FIRST)
def test_the_same_stamp_fails_without_the_declaration_naming_it(pytester, kind):
    script_project(pytester.path, KINDS[kind](), metadata=True)

    result = run(pytester)

    assert result.ret == 1
    result.stdout.fnmatch_lines(["*reports/metadata.json*", "*/created_at*"])


@pytest.mark.parametrize("kind", COMMAND_FIRST)
def test_a_declared_stamp_does_not_hide_a_real_difference_beside_it(pytester, kind):
    ini = KINDS[kind](repro_ignore="reports/metadata.json:/created_at")
    script_project(pytester.path, ini, metadata=True, noise="random.random()")

    result = run(pytester)

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*reports/metrics.json*differ*", "*ignored (declared): reports/metadata.json:/created_at*"]
    )


def test_a_pointer_that_names_no_value_fails_naming_it(pytester):
    script_project(
        pytester.path, KINDS["command"](repro_ignore="reports/metadata.json:/creatd_at"), metadata=True
    )

    result = run(pytester)

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*repro_ignore 'reports/metadata.json:/creatd_at': no value at /creatd_at in reports/metadata.json*"]
    )


def test_a_glob_that_matches_no_output_fails_naming_the_outputs(pytester):
    ini = KINDS["command"](repro_ignore="reports/metadata.json:/created_at\nlogs/*.txt")
    script_project(pytester.path, ini, metadata=True)

    result = run(pytester)

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*repro_ignore 'logs/*.txt' matched no output (outputs: *reports/metadata.json*"]
    )


def test_a_whole_output_declared_on_the_command_line_passes(pytester):
    script_project(pytester.path, KINDS["command"](), metadata=True)

    result = run(pytester, "--repro-ignore=reports/meta*.json")

    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["artifacts *ignored (declared): reports/metadata.json*"])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("metadata.json:", "an empty JSON pointer after ':'"),
        ("metadata.json:created_at", "a JSON pointer starts with '/'"),
        ("models/model.pkl:/x", "a pointer reaches only into JSON or YAML outputs"),
        ("logs/[a.txt", "an unclosed '['"),
        ("logs/a**.txt", "'**' must be a whole path segment"),
        ("mlruns/{run}/x", "unknown segment '{run}'"),
        ("mlruns/{id}/MLmodel:/run_id", "a pairing glob ({id}) takes no pointer"),
        ("/abs/x.json", "must be a glob relative to the project"),
        (":/x", "no glob"),
    ],
)
def test_a_bad_pattern_is_one_line_naming_it(line, message):
    with pytest.raises(ValueError, match=r"^ini repro_ignore ") as raised:
        parse_rule(line, "ini repro_ignore")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_bad_pattern_is_a_usage_error_of_the_session(pytester):
    script_project(pytester.path, KINDS["command"](repro_ignore="models/centroids.json:"))

    result = run(pytester)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: ini repro_ignore 'models/centroids.json:': an empty JSON pointer*"])


def _run(tmp_path, label, files):
    from pytest_repro.core.run_records import RunRecord
    from pytest_repro.lineage.hashing import sha256_file

    folder = tmp_path / label
    artifacts = {}
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        artifacts[name] = path
    hashes = {name: sha256_file(path) for name, path in artifacts.items()}
    return RunRecord(label, folder, artifacts, hashes, None, {}, None, 0.0)


def test_id_segments_pair_outputs_and_a_wildcard_pointer_sets_aside_every_key(tmp_path):
    a = _run(tmp_path, "run-a", {"mlruns/11/models/m-aa/artifacts/MLmodel": "run_id: aa\nflavors: {x: 1}\n"})
    b = _run(tmp_path, "run-b", {"mlruns/22/models/m-bb/artifacts/MLmodel": "run_id: bb\nflavors: {x: 1}\n"})
    volatility = Volatility(
        parse_rules(["mlruns/{id}/models/{id}/artifacts/**", "mlruns/*/models/*/artifacts/MLmodel:/*"], "t")
    )
    from pytest_repro.diagnose.compare import compare_every_artifact

    a, b = volatility.pair(a, b)
    assert list(a.artifacts) == list(b.artifacts) == ["mlruns/{id}/models/{id}/artifacts/MLmodel"]
    assert compare_every_artifact(a, b, volatility=volatility) is None
    assert volatility.shown() == "mlruns/{id}/models/{id}/artifacts/MLmodel:/run_id"
    assert volatility.unmatched(a.artifacts) == []


def test_an_ambiguous_pairing_is_one_line_naming_both_outputs(tmp_path):
    a = _run(tmp_path, "run-a", {"mlruns/1/r1/metrics/x": "1", "mlruns/1/r2/metrics/x": "1"})
    volatility = Volatility(parse_rules(["mlruns/{id}/{id}/metrics/*"], "t"))
    with pytest.raises(
        IgnoreError, match=r"run-a's mlruns/1/r1/metrics/x and mlruns/1/r2/metrics/x both pair"
    ):
        volatility.pair(a, a)


@pytest.mark.slow  # a hunt, or a hand run then a session: seconds each
@pytest.mark.parametrize("kind", KINDS)
def test_the_variations_set_aside_the_declared_stamp_too_in_pytest_and_repro_vary(pytester, kind):
    # Without the declaration every varied run's stamp differs from the reference's: the
    # hunt would blame the first variation it tries.
    script_project(
        pytester.path, KINDS[kind](repro_ignore="reports/metadata.json:/created_at"), metadata=True
    )
    before = snapshot(pytester.path)

    result = pytester.runpytest(
        "--repro", "--repro-vary=tz,umask", "-p", "no:cacheprovider", "-p", "no:randomly"
    )
    hunt = subprocess.run(
        ["repro-vary", "--vary", "tz,umask"], cwd=pytester.path, capture_output=True, text=True, timeout=600
    )

    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["vary[[]tz] * identical (*ignored (declared): reports/metadata.json:/created_at*"]
    )
    assert hunt.returncode == 0, hunt.stdout + hunt.stderr
    assert "ignored (declared): reports/metadata.json:/created_at" in hunt.stdout
    assert describe_difference(before, snapshot(pytester.path)) == ""


@pytest.mark.slow  # a hunt, or a hand run then a session: seconds each
@pytest.mark.parametrize("kind", KINDS)
def test_replay_of_a_hand_run_sets_aside_a_declared_output_whose_digest_moved_and_says_so(pytester, kind):
    script_project(
        pytester.path, KINDS[kind](repro_ignore="reports/metadata.json:/created_at"), metadata=True
    )
    recorded = subprocess.run(["repro-run"], cwd=pytester.path, capture_output=True, text=True, timeout=600)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr

    result = run(pytester)

    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "replay * ignored (declared): reports/metadata.json (its digest differs; replay compares digests only)"
        ]
    )


@pytest.mark.slow  # a hunt, or a hand run then a session: seconds each
def test_replay_without_the_declaration_fails_on_the_stamp(pytester):
    script_project(pytester.path, KINDS["command"](), metadata=True)
    recorded = subprocess.run(["repro-run"], cwd=pytester.path, capture_output=True, text=True, timeout=600)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr

    result = run(pytester)

    result.stdout.fnmatch_lines(["*reports/metadata.json: recorded *, fresh *", "FAILED *::replay - *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.slow  # a hunt, or a hand run then a session: seconds each
@pytest.mark.parametrize(
    ("kind", "rules"),
    [
        ("command", ["reports/metrics.json:/f1", "reports/metadata.json:/created_at"]),
        (
            "function",
            ["reports/metrics.json:/f1", "reports/metadata.json:/created_at", "metrics:/f1"],
        ),  # a function's returned mapping: `metrics`
    ],
)
def test_a_declared_metric_is_set_aside_in_the_metrics_check_too(pytester, kind, rules):
    # The command's metrics are its repro_metrics file; a function's returned mapping is `metrics`.
    ini = KINDS[kind](repro_ignore=rules)
    if kind == "command":
        ini += 'repro_metrics = "reports/metrics.json"\n'
    script_project(pytester.path, ini, noise="random.random()", metadata=True)

    result = run(pytester)

    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["metrics * ignored (declared): *:/f1"])
