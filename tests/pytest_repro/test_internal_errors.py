"""An unexpected exception in a command line is one line, exit 3, and REPRO_DEBUG=1 shows its traceback.

Each command is run as a user runs it (a subprocess of its real `main`), with one of
its own functions replaced by one that fails in a way no message was written for: that
is what an internal error is.  Exit 3 keeps a crash apart from exit 1 ("verification
failed"), which a CI would otherwise read as a changed artifact.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from checkout import ROOT

from pytest_repro.errors import DEBUG_ENV, EXIT_INTERNAL_ERROR

pytestmark = pytest.mark.slow  # a fresh interpreter per command, a second or more each

# (the command's main, the attribute that is made to fail, its arguments)
COMMANDS = [
    pytest.param("training.cli:train_main", "training.run:train", [], id="python-m-training"),
    pytest.param(
        "pytest_repro.cli.repro_check:main", "pytest_repro.cli.repro_check:check", [], id="repro-check"
    ),
    pytest.param(
        "pytest_repro.cli.repro_hook:main", "pytest_repro.cli.repro_hook:check", ["lineage"], id="repro-hook"
    ),
    pytest.param(
        "pytest_repro.cli.repro_export:main",
        "pytest_repro.cli.repro_export:load_verified",
        ["intoto"],
        id="repro-export",
    ),
]

_BROKEN = """\
import importlib, sys
main_module, main_name = {main!r}.split(":")
target_module, target_name = {target!r}.split(":")

def broken(*args, **kwargs):
    raise ZeroDivisionError("a failure nobody wrote a message for")

setattr(importlib.import_module(target_module), target_name, broken)
raise SystemExit(getattr(importlib.import_module(main_module), main_name)({args!r}))
"""


def _run(tmp_path: Path, main: str, target: str, args: list[str], debug: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRO_")}
    env["PYTHONPATH"] = str(ROOT)
    if debug:
        env[DEBUG_ENV] = "1"
    code = _BROKEN.format(main=main, target=target, args=args)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("main", "target", "args"), COMMANDS)
def test_an_internal_error_is_one_line_with_its_own_exit_status(tmp_path: Path, main, target, args):
    result = _run(tmp_path, main, target, args, debug=False)
    assert result.returncode == EXIT_INTERNAL_ERROR == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: internal error (ZeroDivisionError: a failure nobody wrote a message for); "
        "rerun with REPRO_DEBUG=1 for the traceback"
    ]


def test_repro_debug_shows_the_traceback(tmp_path: Path):
    main, target, args = COMMANDS[1].values
    result = _run(tmp_path, main, target, args, debug=True)
    assert result.returncode == 1  # Python's own status for an uncaught exception
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: a failure nobody wrote a message for" in result.stderr
