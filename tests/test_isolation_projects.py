"""No run touches the user's project: `pytest --repro` in repository-shaped projects, from the installed wheel.

Each project (tests/support/repo_projects.py) is a git repository adopted with ini lines
only: an MLflow script with a `./mlruns` store and a registry alias, a script writing
into git-ignored folders, a package whose `models/` holds only a tracked model, and a
real DVC pipeline.  For each, the whole tree (ignored files, `.git` and `.dvc`
included) is snapshot before and after `pytest --repro` and after `pytest --repro
--repro-vary=all`, and must be byte-identical; the verdicts must stay right (the
project passes, a planted unseeded forest fails, naming its model).  Two more
trainings probe the copy itself: one writes into a large shared data file, one asks
git which checkout it runs in.

The plugin is the wheel installed non-editable in one fresh venv for the module, with
what the strangers' trainings import; `dvc` comes from PATH (.ci/run puts its own venv
last there), and the DVC cases skip without it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from installed_wheel import StrangerVenv, build_wheel, create_venv
from repo_projects import (
    RepoProject,
    dvc_pipeline_project,
    git_checkout_project,
    git_output,
    hostile_write_project,
    ignored_folders_project,
    mlflow_script_project,
    package_module_project,
)
from tree_snapshot import describe_difference, snapshot

pytestmark = pytest.mark.slow

# mlflow.sklearn imports pandas, which mlflow-skinny does not require.
STRANGER_REQUIREMENTS = ("scikit-learn", "joblib", "pyyaml", "mlflow-skinny", "pandas")
INTERNAL_ERROR = 3
FAILED_ITEM = re.compile(r"^(?:FAILED|ERROR) \S+?::(?P<name>\S+)", re.MULTILINE)
needs_dvc = pytest.mark.skipif(
    shutil.which("dvc") is None, reason="dvc is not on PATH (.ci/run installs it in .venv-dvc)"
)
Builder = Callable[..., RepoProject]
PROJECTS = [
    pytest.param(mlflow_script_project, id="mlflow-script"),
    pytest.param(ignored_folders_project, id="ignored-folders"),
    pytest.param(package_module_project, id="package-module"),
    pytest.param(dvc_pipeline_project, id="dvc-pipeline", marks=needs_dvc),
]


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> StrangerVenv:
    """A fresh venv holding the wheel (non-editable) and what the projects' trainings import."""
    wheel = build_wheel(tmp_path_factory.mktemp("isolation-wheel"))
    venv = create_venv(tmp_path_factory.mktemp("isolation-stranger") / "venv")
    venv.install(str(wheel), *STRANGER_REQUIREMENTS)
    return venv


@pytest.fixture(scope="module")
def lightgbm(stranger: StrangerVenv) -> None:
    """LightGBM in the stranger's venv, or a skip when it cannot be installed here."""
    result = stranger.run("-m", "pip", "install", "--quiet", "lightgbm", cwd=stranger.root, timeout=600)
    if result.returncode != 0:
        pytest.skip(f"lightgbm could not be installed: {result.stderr.strip().splitlines()[-1:]}")


def _repro(stranger: StrangerVenv, project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return stranger.run("-m", "pytest", "--repro", "-p", "no:cacheprovider", *extra, cwd=project)


def _report(result: subprocess.CompletedProcess[str], changed: str) -> str:
    tree = changed or "the project is unchanged"
    return f"{tree}\nexit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.mark.parametrize("build", PROJECTS)
def test_twin_runs_pass_and_leave_the_project_byte_identical(
    build: Builder, stranger: StrangerVenv, tmp_path: Path
):
    project = build(tmp_path / "project", stranger)
    before = snapshot(project.root)

    result = _repro(stranger, project.root)

    changed = describe_difference(before, snapshot(project.root))
    assert (result.returncode, changed) == (0, ""), _report(result, changed)


@pytest.mark.parametrize("build", PROJECTS)
def test_the_variation_hunt_leaves_the_project_byte_identical(
    build: Builder, stranger: StrangerVenv, tmp_path: Path
):
    # A variation may be reported as changing the output or as not exercised: only the
    # tree, the absence of an internal error and the twin checks are this test's business.
    project = build(tmp_path / "project", stranger)
    before = snapshot(project.root)

    result = _repro(stranger, project.root, "--repro-vary=all")

    changed = describe_difference(before, snapshot(project.root))
    failed_twin_checks = [
        m["name"] for m in FAILED_ITEM.finditer(result.stdout) if not m["name"].startswith("vary[")
    ]
    assert result.returncode != INTERNAL_ERROR, _report(result, changed)
    assert (changed, failed_twin_checks) == ("", []), _report(result, changed)


@pytest.mark.parametrize("build", PROJECTS)
def test_a_planted_unseeded_forest_fails_naming_its_model(
    build: Builder, stranger: StrangerVenv, tmp_path: Path
):
    project = build(tmp_path / "project", stranger, seeded=False)
    before = snapshot(project.root)

    result = _repro(stranger, project.root)

    changed = describe_difference(before, snapshot(project.root))
    names_the_model = re.search(rf"\bdiffers?\b[^\n]*{re.escape(project.model)}", result.stdout) is not None
    assert (result.returncode, names_the_model, changed) == (1, True, ""), _report(result, changed)


def test_a_lightgbm_package_passes_and_leaves_the_project_byte_identical(
    lightgbm: None, stranger: StrangerVenv, tmp_path: Path
):
    project = package_module_project(tmp_path / "project", stranger, estimator="lightgbm")
    before = snapshot(project.root)

    result = _repro(stranger, project.root)

    changed = describe_difference(before, snapshot(project.root))
    assert (result.returncode, changed) == (0, ""), _report(result, changed)


def test_a_run_writing_into_a_shared_data_file_fails_naming_it_and_the_original_is_unchanged(
    stranger: StrangerVenv, tmp_path: Path
):
    project = hostile_write_project(tmp_path / "project")
    before = snapshot(project.root)

    result = _repro(stranger, project.root)

    changed = describe_difference(before, snapshot(project.root))
    names_the_file = "data/raw/big.bin" in result.stdout + result.stderr
    assert (result.returncode, names_the_file, changed) == (1, True, ""), _report(result, changed)


def test_a_runs_copy_is_a_git_checkout_at_the_users_head_with_the_uncommitted_edit(
    stranger: StrangerVenv, tmp_path: Path
):
    witness = tmp_path / "witness"
    project = git_checkout_project(tmp_path / "project", witness)
    head = git_output(project.root, "rev-parse", "HEAD").strip()
    edits = git_output(project.root, "status", "--porcelain").splitlines()
    assert edits == [" M README.md"], edits
    before = snapshot(project.root)

    result = _repro(stranger, project.root)

    changed = describe_difference(before, snapshot(project.root))
    views = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(witness.glob("*.json"))]
    assert len(views) >= 2, _report(result, changed)  # both twins
    for view in views:
        assert view["head"]["stdout"].strip() == head, view
        assert set(edits) <= set(view["status"]["stdout"].splitlines()), view
        # git found the copy's own repository, not one above it (the user's, say).
        assert view["toplevel"]["stdout"].strip() == view["cwd"], view
    assert (result.returncode, changed) == (0, ""), _report(result, changed)
