"""A training cannot end the session green, nor flood it: os._exit in-process fails, output is capped.

In-process isolation runs the training in pytest's own interpreter, where `os._exit(0)`
would end the session at once with status 0 and no results.  And a subprocess run's
output is relayed and kept line by line, so a training printing one enormous line (or
a great deal of them) must cost the session a bounded amount, with what was dropped said.
"""

from __future__ import annotations

import re

import pytest

from pytest_repro.running.launcher import MAX_LINE_CHARS, MAX_RELAYED_CHARS


@pytest.mark.slow
def test_a_training_calling_os_exit_in_process_fails_instead_of_ending_the_session(example):
    example.write(before="import os; os._exit(0)", isolation="inprocess")
    result = example.run_subprocess("--repro", "-m", "repro and not repro_probe")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*training called os._exit(0), which would end the pytest session itself*"])
    assert "no tests ran" not in result.stdout.str()


@pytest.mark.slow
def test_a_flood_of_output_is_cut_and_the_dropped_amount_is_said(example):
    long_line = 20 * MAX_LINE_CHARS
    many = 3 * MAX_RELAYED_CHARS // 100
    example.write(
        before=(
            f"import sys; sys.stderr.write('x' * {long_line} + '\\\\n'); "
            f"[print('y' * 99, file=sys.stderr) for _ in range({many})]; sys.stderr.flush(); raise SystemExit(3)"
        ),
        isolation=None,
    )
    result = example.run_subprocess("--repro", "-m", "repro and not repro_probe")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str() + result.stderr.str()
    assert "x" * (MAX_LINE_CHARS + 1) not in output
    cut = re.findall(
        rf"\[pytest-repro: output dropped: (\d+) characters cut from lines longer than {MAX_LINE_CHARS}",
        output,
    )
    assert cut and all(int(count) >= long_line - MAX_LINE_CHARS for count in cut), cut
    assert "characters not relayed past the first" in output
    # Two runs, each relaying at most MAX_RELAYED_CHARS (plus its label per line and the failure tails).
    assert len(output) < 4 * MAX_RELAYED_CHARS
