"""A run's start-up code replaces builtins (`time.localtime`, `os.listdir`...); code that keeps one as a class attribute still works.

`logging.Formatter` keeps `converter = time.localtime` and calls `self.converter(seconds)`.
A replacement that bound like a Python function received the formatter too, and every
log line with a time in it failed ("--- Logging error ---", the message lost) in a
command training under `pytest --repro`.  A builtin's replacement is now a staticmethod,
which binds as the builtin does.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from builtin_binding import CLASS_ATTRIBUTES
from script_projects import command_ini, function_ini, script_project

from pytest_repro.running.isolation import SITE_FOLDER


def _run_site(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter that starts as every process of a run does (the run site first)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(SITE_FOLDER), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_recorded_process_keeps_builtins_that_a_class_stores_unbound(tmp_path):
    (tmp_path / "record").mkdir()
    result = _run_site(CLASS_ATTRIBUTES, REPRO_RECORD=str(tmp_path / "record"))

    assert result.returncode == 0, result.stderr
    assert "Logging error" not in result.stderr
    assert list((tmp_path / "record").glob("*.json")), "the recorder was not installed"


def test_reversed_listings_stay_unbound_in_a_class_too(tmp_path):
    for name in ("b", "a", "c"):
        (tmp_path / name).touch()
    code = CLASS_ATTRIBUTES + f"print(','.join(Kept().listing({str(tmp_path)!r})))\n"

    plain = _run_site(code)
    reversed_ = _run_site(code, REPRO_DIR_ORDER="reverse")

    assert plain.returncode == 0 and reversed_.returncode == 0, plain.stderr + reversed_.stderr
    listed, listed_reversed = plain.stdout.strip().split(","), reversed_.stdout.strip().split(",")
    assert listed_reversed == listed[::-1] != listed


KINDS = {"command": command_ini, "function": function_ini}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_training_that_logs_with_the_time_passes_its_twins(pytester: pytest.Pytester, kind: str):
    script_project(pytester.path, KINDS[kind]())
    model = pytester.path / "src" / "model.py"
    model.write_text(CLASS_ATTRIBUTES + model.read_text())
    commit = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "log"]
    subprocess.run(commit, cwd=pytester.path, check=True, capture_output=True)

    result = pytester.runpytest_subprocess("--repro", "-m", "repro", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "Logging error" not in result.stdout.str() + result.stderr.str()
