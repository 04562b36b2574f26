"""A run reads the bytecode caches that exist and writes none: a cache beside a source in the project is a write into it."""

from __future__ import annotations

import pytest

# The training imports a module of the project that has no cached bytecode yet.
IMPORTS_HELPER = '__import__("helper")'


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
def test_a_run_importing_an_uncached_project_module_writes_no_bytecode_and_passes(example, monkeypatch):
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # as on a developer's machine and in CI
    example.write(before=IMPORTS_HELPER, isolation=None)
    (example.path / "helper.py").write_text("VALUE = 1\n")

    result = example.run("--repro", "-m", "repro", "-k", "artifact")

    result.assert_outcomes(passed=2)
    assert not list(example.path.rglob("helper*.pyc")), "a run wrote bytecode into the project"
    assert result.ret == pytest.ExitCode.OK
