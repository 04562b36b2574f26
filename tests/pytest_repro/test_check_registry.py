"""One registry of plain check functions, one item class, and one outcome vocabulary read everywhere.

Every `Outcome` member, returned by a registered check and run by the one item class,
shows in the terminal's reproducibility table, the JUnit property `repro_outcome` and
the HTML report, coloured by its kind; no module writes an outcome word outside the enum.
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from html_report import read_page, summary_rows

import pytest_repro
from pytest_repro.checks.registry import REGISTRY, CheckKind, planned_checks
from pytest_repro.checks.result import CheckResult, Effect
from pytest_repro.core.outcomes import Kind, Outcome

PACKAGE = Path(pytest_repro.__file__).parent
# Words that are Outcome values but mean something else where they are written, each with its reason.
OTHER_VOCABULARIES = {
    # pytest's own report outcomes (`report.outcome`), counted for the page's badge.
    ("report/gathering.py", "failed"),
    ("report/gathering.py", "skipped"),
    # A CSS class of the environment table, not an outcome.
    ("report/environments.py", "differs"),
    # Setting names (`--repro-portability`, `--portability`).
    ("cli/repro_vary.py", "portability"),
    ("settings/probes.py", "portability"),
    ("settings/table.py", "portability"),
    # A key of the variation report's JSON.
    ("variations/report.py", "interaction"),
}

EVERY_OUTCOME_CONFTEST = """
import pytest
from pytest_repro.checks.registry import PlannedCheck
from pytest_repro.items.item_base import ReproItem
from pytest_repro.core.outcomes import Outcome


class EveryOutcome(pytest.File):
    def collect(self):
        for outcome in Outcome:
            yield ReproItem.child(self, PlannedCheck(f"outcome[{outcome.name}]", "every-outcome", outcome))


def pytest_collect_file(file_path, parent):
    if file_path.name == "outcomes.txt":
        return EveryOutcome.from_parent(parent, path=file_path)
"""


def _every_outcome(context: object, outcome: Outcome) -> CheckResult:
    return CheckResult(
        outcome, f"detail of {outcome.name}", f"message of {outcome.name}", a="a" * 64, b="b" * 64
    )


def test_every_outcome_renders_in_the_terminal_table_the_junit_property_and_the_html_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    # A registered kind that returns each outcome in turn, run by the one item class in process.
    monkeypatch.setitem(REGISTRY, "every-outcome", CheckKind(_every_outcome, ()))
    pytester.makeconftest(EVERY_OUTCOME_CONFTEST)
    pytester.makefile(".txt", outcomes="")
    # A configured training that never trains: only the file named is collected, so no twin check runs.
    pytester.makepyfile(
        never_trained="def train(config_path, output_dir, seed=None):\n    raise AssertionError\n"
    )
    pytester.makeini("[pytest]\nrepro_train = never_trained:train\npythonpath = .\n")

    result = pytester.runpytest(
        "outcomes.txt",
        "--repro",
        "-p",
        "no:cacheprovider",
        "--junitxml=junit.xml",
        "--repro-report=report.html",
    )

    failing = [o for o in Outcome if o.kind is Kind.FAILED]
    skipped = [o for o in Outcome if o.kind is Kind.SKIPPED]
    result.assert_outcomes(
        passed=len(Outcome) - len(failing) - len(skipped), failed=len(failing), skipped=len(skipped)
    )
    terminal = result.stdout.str()
    tree = ElementTree.parse(pytester.path / "junit.xml")
    junit = {
        case.get("name"): [p.get("value") for p in case.iter("property") if p.get("name") == "repro_outcome"]
        for case in tree.iter("testcase")
    }
    markup = (pytester.path / "report.html").read_text(encoding="utf-8")
    html_rows = {row[0]: row for row in summary_rows(read_page(markup))}
    classes = {Kind.PASSED: "good", Kind.FAILED: "bad", Kind.WARNING: "warn", Kind.SKIPPED: "muted"}
    for outcome in Outcome:
        name = f"outcome[{outcome.name}]"
        shown = outcome.shown(f"detail of {outcome.name}")
        assert re.search(rf"^{re.escape(name)} +a{{12}} +b{{12}} +{re.escape(shown)}$", terminal, re.M), name
        assert junit[name] == [outcome.value]
        assert html_rows[name][3] == outcome.value
        cell = f'<td class="outcome {classes[outcome.kind]}">{outcome.value}</td>'
        assert cell in markup, (name, cell)


def test_a_result_takes_only_an_outcome_and_its_kind_decides_pass_fail_or_skip():
    with pytest.raises(TypeError, match="an Outcome"):
        CheckResult("differ")  # type: ignore[arg-type]
    effects = {Kind.PASSED: Effect.PASS, Kind.WARNING: Effect.PASS, Kind.FAILED: Effect.FAIL}
    for outcome in Outcome:
        assert CheckResult(outcome).resolved_effect is effects.get(outcome.kind, Effect.SKIP)
    # A check may say otherwise: a seed left unused fails under --repro-seed-sensitivity=fail.
    assert CheckResult(Outcome.SEED_UNUSED, effect=Effect.FAIL).resolved_effect is Effect.FAIL


def _string_literals(path: Path) -> set[str]:
    """The plain string constants of a module (docstrings and f-string pieces too)."""
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_no_module_writes_an_outcome_word_outside_the_enum():
    words = {outcome.value for outcome in Outcome} | {"differ", "no lineage"}
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where == "core/outcomes.py":
            continue
        found |= {(where, word) for word in _string_literals(path) & words}
    # `differ(s)` is the verb of a rendered difference ("metrics differ: ..."), never an outcome.
    found -= {("diagnose/difference.py", "differ"), ("diagnose/difference.py", "differs")}
    assert found <= OTHER_VOCABULARIES, sorted(found - OTHER_VOCABULARIES)


def test_checks_are_plain_functions_that_import_no_pytest():
    for path in sorted((PACKAGE / "checks").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
        }
        assert "pytest" not in imported, path.name
        assert "_pytest" not in imported, path.name
        assert not any(name.startswith("pytest_repro.items") for name in imported), path.name


class _Settings:
    def __init__(self, artifacts: tuple[str, ...], against: Path | None = None):
        self.artifacts, self.against = artifacts, against


class _Probes:
    def __init__(self, seeds: tuple[int, ...] = (), sensitivity: str = "off", vary: tuple[str, ...] = ()):
        self.seeds, self.sensitivity, self.vary = seeds, sensitivity, vary


@pytest.mark.parametrize(
    ("artifacts", "probes", "against", "asked", "names"),
    [
        ((), _Probes(), None, False, ["artifacts"]),
        (("model", "report"), _Probes(), None, False, ["artifact[model]", "artifact[report]"]),
        (
            (),
            _Probes((0, 1), "warn", ("tz",)),
            None,
            False,
            ["artifacts", "seed[0]", "seed[1]", "seed-sensitivity", "vary[tz]"],
        ),
        ((), _Probes(sensitivity="warn"), Path("recorded.json"), False, ["artifacts"]),
        ((), _Probes(sensitivity="warn"), Path("recorded.json"), True, ["artifacts", "seed-sensitivity"]),
    ],
)
def test_one_generator_chooses_the_checks_of_a_training_in_collection_order(
    artifacts, probes, against, asked, names
):
    twin = ["folds", "metrics", "lineage[run-a]", "lineage[run-b]", "replay"]
    planned = list(planned_checks(_Settings(artifacts, against), probes, sensitivity_asked=asked))

    outputs, rest = names[: len(artifacts) or 1], names[len(artifacts) or 1 :]
    assert [p.name for p in planned] == [*outputs, *twin, *rest]
    assert all(p.kind in REGISTRY for p in planned)


def test_the_registry_is_the_only_place_a_check_kind_is_named():
    # No module switches on a kind string: the items and the session read the registry.
    kinds = set(REGISTRY)
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where in ("checks/registry.py",):
            continue
        source = path.read_text(encoding="utf-8")
        for kind in kinds:
            assert not re.search(rf"kind\s*==\s*['\"]{re.escape(kind)}['\"]", source), (where, kind)


def test_every_registered_check_names_a_function_that_loads():
    """The registry names its functions as text (imported when a check runs): a wrong name fails here."""
    for kind in REGISTRY.values():
        assert callable(kind.load()), kind.function
