"""Under pytest-xdist the twin runs are trained once per session and the summary printed once."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("xdist")

# Every training appends a line to a log outside the project (a run may not write into it),
# so the test can count them across processes.
COUNT_TRAININGS = (
    'with Path(__import__("os").environ["TRAININGS_LOG"]).open("a") as log: log.write("trained\\n")'
)

USER_TESTS = """\
import pytest


@pytest.mark.repro
@pytest.mark.parametrize("case", range(4))
def test_user_check_reuses_the_twins(repro_twins, case):
    assert repro_twins.a.hashes == repro_twins.b.hashes
"""


@pytest.mark.slow
def test_two_workers_share_one_twin_pair_and_print_one_summary(example, monkeypatch):
    log = example.path.parent / f"{example.path.name}-trainings.log"
    monkeypatch.setenv("TRAININGS_LOG", str(log))
    example.write(before=COUNT_TRAININGS, isolation=None)
    example.pytester.makepyfile(test_user=USER_TESTS)

    result = example.run_subprocess("-n", "2", "--repro", "-v")

    result.assert_outcomes(passed=10, skipped=2)
    result.stdout.fnmatch_lines(["created: 2/2 workers"])
    # Both workers ran checks that need the twins, and yet only one pair was trained.
    for worker in ("gw0", "gw1"):
        result.stdout.fnmatch_lines([f"[[]{worker}]*PASSED *"])
    trainings = log.read_text().splitlines()
    assert trainings == ["trained", "trained"]
    # In collection order, however the workers happened to finish the checks.
    result.stdout.fnmatch_lines(
        [
            "*= reproducibility =*",
            "check * run-a * run-b * outcome",
            "artifact[[]model] * identical",
            "artifact[[]threshold] * identical",
            "folds * identical (3 folds)",
            "metrics * equal",
            # config.yaml and tinytrain.py, read (the recorder's); 2 artifacts
            "lineage[[]run-a] * verified (4 files, unsigned)",
            "lineage[[]run-b] * verified (4 files, unsigned)",
        ]
    )
    assert sum(re.fullmatch(r"=+ reproducibility =+", line) is not None for line in result.outlines) == 1
    assert result.ret == pytest.ExitCode.OK
