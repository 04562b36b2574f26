"""Hypothesis profiles for the project's tests: `ci` when the CI variable is set, `dev` otherwise.

`ci` is derandomized (the same examples on every run, so a red build is not luck),
keeps no example database and prints the blob that replays a failure with
`@reproduce_failure`.  `nightly` runs many more examples:
`pytest tests/test_fuzz_config.py --hypothesis-profile nightly`.  A profile given with
`--hypothesis-profile` wins over the one chosen here.

Profiles are registered here, in a conftest pytest loads before it configures plugins,
because hypothesis's plugin loads `--hypothesis-profile` while configuring.

The session also compiles the plugin's, the demo's and the test helpers' bytecode once
(`compileall`, skipping what is up to date): hundreds of tests start a Python process
that imports them, and where `PYTHONDONTWRITEBYTECODE` is set (as on this project's CI
machines) each of those processes would otherwise compile every module again.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

import pytest
from fake_project import FakeProject
from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci", max_examples=50, derandomize=True, database=None, print_blob=True, deadline=None
)
settings.register_profile("nightly", max_examples=2000, deadline=None, print_blob=True)

_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
settings.load_profile("ci" if _CI else "dev")

REPO = Path(__file__).resolve().parent.parent
COMPILED = ("pytest_repro", "training", "tests/support")


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller compiled them
        return
    for folder in COMPILED:
        compileall.compile_dir(REPO / folder, quiet=2, workers=1)


@pytest.fixture
def fake_project(tmp_path: Path) -> FakeProject:
    """A trained-looking project under tmp_path/project: files written, lineage not yet."""
    return FakeProject(tmp_path / "project").write_files()
