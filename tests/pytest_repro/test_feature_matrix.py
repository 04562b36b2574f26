"""The same model trained by a script and by a function gets the same verdict from every check.

Issue 21's matrix: the twins, the metrics, the lineage of each run, replay, the seed
probe, every variation and the HTML report, for the nearest-centroid model of
`support/script_projects.py` trained as a command (`repro_command` with `{seed}`) and
as a function (`repro_train`).  Where a verdict may differ between the kinds, the
difference is listed here with its reason; anything else that differs fails.  The
command-line tools (`repro-run`, `repro-check`, `repro-export`, `repro-hook`) get the
same treatment from the installed wheel in `tests/test_hand_run_projects.py`.
"""

from __future__ import annotations

import re

import pytest
from html_report import read_page, summary_rows
from script_projects import command_ini, function_ini, script_project
from tree_snapshot import describe_difference, snapshot

pytestmark = pytest.mark.slow

SEED = "7"
KINDS = {
    "command": lambda: command_ini(repro_metrics="reports/metrics.json", repro_seed=SEED).replace(
        'python src/train.py"', 'python src/train.py --seed {seed}"'
    ),
    "function": lambda: function_ini(repro_seed=SEED),
}
# A command always runs from its own copy of the project, so moving the working
# directory alone varies nothing (the `path` variation moves the copy).
DIFFERS_BY_KIND = {"vary[cwd]": {"command": "not applicable", "function": "identical"}}


def verdicts(pytester: pytest.Pytester, kind: str, *, noise: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each check's verdict in the terminal table and in the HTML report, for one kind of training."""
    root = pytester.mkdir(kind)
    script_project(root, KINDS[kind](), noise=noise)
    report = pytester.path / f"{kind}.html"
    before = snapshot(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        result = pytester.runpytest_subprocess(
            "--repro", "--repro-vary=all", f"--repro-report={report}", "-p", "no:cacheprovider"
        )
    changed = describe_difference(before, snapshot(root))
    assert not changed, f"the {kind} training changed its project:\n{changed}"
    terminal = {check: _verdict(outcome) for check, outcome in _table(result.outlines).items()}
    page = {row[0]: _verdict(row[3]) for row in summary_rows(read_page(report))}
    return terminal, page


def _table(lines: list[str]) -> dict[str, str]:
    """The reproducibility table's rows, by check: the outcome column (the last of the row)."""
    header = next(i for i, line in enumerate(lines) if line.split() == ["check", "run-a", "run-b", "outcome"])
    start = lines[header].index("outcome")
    rows = {}
    for line in lines[header + 1 :]:
        if not line or line.startswith(("twin runs:", "=")):
            break
        rows[line.split()[0]] = line[start:].strip()
    return rows


def _verdict(outcome: str) -> str:
    """The verdict words of an outcome, without their details: `identical`, `not exercised`, `seed used`..."""
    return re.split(r"[(:]", outcome, maxsplit=1)[0].strip()


@pytest.mark.parametrize(
    ("noise", "failing", "probe"),
    [
        pytest.param("0.0", set(), "seed used", id="deterministic"),
        # Noise in the f1 metric only: the metrics file and the metrics differ, the model does
        # not; every probe is inconclusive, since the twins themselves already differ.
        pytest.param("random.random()", {"artifacts", "metrics"}, "inconclusive", id="noisy-metric"),
    ],
)
def test_a_script_and_a_function_training_of_one_model_get_the_same_verdicts(pytester, noise, failing, probe):
    found = {kind: verdicts(pytester, kind, noise=noise) for kind in KINDS}

    command, function = found["command"][0], found["function"][0]
    assert command.keys() == function.keys()
    for check in command:
        if command[check] != function[check]:
            assert DIFFERS_BY_KIND.get(check) == {"command": command[check], "function": function[check]}, (
                check
            )
    for kind, (terminal, page) in found.items():
        # The report says what the terminal says, check by check.
        assert page == terminal, kind
        assert {
            check for check, verdict in terminal.items() if verdict in ("differ", "differs", "failed")
        } == (failing), (kind, terminal)
        assert terminal["seed-sensitivity"] == probe, kind
        assert terminal["lineage[run-a]"] == "verified", kind
