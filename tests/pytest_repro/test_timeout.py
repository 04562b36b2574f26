"""A training that hangs does not hang the session: repro_timeout stops it and fails its checks once."""

from __future__ import annotations

import time

import pytest


@pytest.mark.slow
def test_a_training_that_sleeps_is_stopped_and_its_checks_say_why(example):
    example.write(before="import time; print('about to hang', flush=True); time.sleep(600)", isolation=None)
    started = time.monotonic()
    result = example.run_subprocess("--repro", "--repro-timeout", "10", "-m", "repro and not repro_probe")
    assert time.monotonic() - started < 300  # bounded: the 600 s sleep was cut short
    result.stdout.fnmatch_lines(
        ["*training did not finish within 10 s (repro_timeout) and was stopped; the end of its output:*"]
    )
    result.stdout.fnmatch_lines(["*about to hang*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_timeout_is_one_usage_error(example, value):
    example.write()
    result = example.run("--repro", f"--repro-timeout={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--repro-timeout: got" in result.stderr.str()


@pytest.mark.slow
def test_a_varied_run_that_hangs_is_stopped_too_and_fails_its_variation(example):
    # Only the run with the varied time zone hangs: the twins and the reference finish.
    example.write(
        before="import os, time; os.environ.get('TZ') == 'GMT-14' and time.sleep(600)",
        isolation=None,
    )
    started = time.monotonic()
    result = example.run_subprocess("--repro", "--repro-timeout", "20", "--repro-vary=tz", "-k", "vary")
    assert time.monotonic() - started < 300  # bounded: the 600 s sleep was cut short
    result.stdout.fnmatch_lines(["*tz (TZ=UTC -> GMT-14) breaks the training:*"])
    result.stdout.fnmatch_lines(["*training did not finish within 20 s (repro_timeout) and was stopped*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.slow
def test_repro_vary_holds_its_runs_to_the_projects_repro_timeout(example, monkeypatch, capsys):
    from pytest_repro.cli.repro_vary import main

    # The reference run finishes; the one with the varied time zone hangs.
    example.write(
        before="import os, time; os.environ.get('TZ') == 'GMT-14' and time.sleep(600)",
        isolation=None,
        ini={"repro_timeout": "10"},
    )
    monkeypatch.chdir(example.path)
    started = time.monotonic()

    code = main(["--vary", "tz"])

    assert time.monotonic() - started < 300  # bounded: the 600 s sleep was cut short
    assert code == 1
    output = capsys.readouterr()
    assert "training did not finish within 10 s (repro_timeout) and was stopped" in output.out + output.err


def test_repro_vary_refuses_a_bad_repro_timeout_in_the_ini_file(example, monkeypatch, capsys):
    from pytest_repro.cli.repro_vary import main

    example.write(ini={"repro_timeout": "soon"})
    monkeypatch.chdir(example.path)

    assert main(["--vary", "tz"]) == 2
    # The plugin's own settings reader's line, as repro-run and pytest say it.
    assert capsys.readouterr().err.splitlines() == [
        "error: pyproject.toml: ini repro_timeout: got 'soon'; expected a number of seconds ≥ 0 (0: no limit)"
    ]


def test_the_note_on_a_silent_run_says_how_long_and_how_to_change_the_limit():
    from pytest_repro.running.silent_runs import duration, note

    assert [duration(s) for s in (0.4, 59.9, 61, 3600, 5430)] == [
        "0 s",
        "59 s",
        "1 min 1 s",
        "1 h 0 min",
        "1 h 30 min",
    ]
    assert note(75, 61, 3600.0) == (
        "[pytest-repro: still running after 1 min 15 s, with no output for 1 min 1 s; it is stopped after "
        "1 h 0 min (repro_timeout): set repro_timeout in the ini file, or --repro-timeout SECONDS, to change that]"
    )
    assert "it has no time limit (repro_timeout = 0)" in note(75, 61, None)
