"""`repro-run && pytest --repro -m "repro or lineage"` in ini-only projects, from the installed wheel.

The done-when of issue 21's second item, as a user types it: in a script project
(`examples/script_training`, a git repository adopted with three ini lines) and in a
function project, `repro-run` trains once in the project and writes the lineage; then
`pytest --repro -m "repro or lineage"` passes, replay included, and leaves the project
byte-identical; `repro-check`, `repro-hook lineage` and `repro-export` verify the same
lineage; and after one data row is edited, the replay fails naming the data file first.

The plugin is the wheel installed non-editable in one fresh venv for the module, with
scikit-learn for the example's forest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hand_trained import edit_one_row, function_project
from installed_wheel import ROOT, StrangerVenv, build_wheel, create_venv
from tree_snapshot import describe_difference, snapshot

pytestmark = pytest.mark.slow

CHECKS = ("-m", "repro or lineage", "-p", "no:cacheprovider")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> StrangerVenv:
    wheel = build_wheel(tmp_path_factory.mktemp("hand-run-wheel"))
    venv = create_venv(tmp_path_factory.mktemp("hand-run-stranger") / "venv")
    venv.install(str(wheel), "scikit-learn")
    return venv


def _example(root: Path) -> Path:
    """examples/script_training as its user has it: a git repository with one commit."""
    shutil.copytree(ROOT / "examples" / "script_training", root)
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True, timeout=60)
    return root


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    output = f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, output
    return result.stdout + result.stderr


def _failure_section(stdout: str, title: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if f" {title} " in line and line.startswith("_"))
    return lines[start + 1 :]


@pytest.mark.parametrize(
    ("build", "data", "outputs"),
    [
        pytest.param(_example, "data/customers.csv", "models/model.pkl, reports/metrics.json", id="command"),
        pytest.param(function_project, "data/train.csv", "metrics, model", id="function"),
    ],
)
def test_repro_run_then_the_twin_and_lineage_checks_pass_and_replay_names_an_edited_data_file_first(
    stranger: StrangerVenv, tmp_path: Path, build, data: str, outputs: str
):
    project = build(tmp_path / "project")

    trained = _ok(stranger.run_command("repro-run", cwd=project))
    assert f"outputs ({outputs})" in trained and data in trained, trained

    before = snapshot(project)
    checked = _ok(stranger.run("-m", "pytest", "--repro", *CHECKS, cwd=project))
    assert describe_difference(before, snapshot(project)) == ""
    assert "artifacts/lineage.json ." in checked
    assert "reproduced (recorded vs fresh outputs)" in checked, checked
    for command in (
        ["repro-check", "--no-report"],
        ["repro-hook", "lineage"],
        ["repro-export", "sha256sums"],
    ):
        _ok(stranger.run_command(*command, cwd=project))

    edit_one_row(project / data)
    result = stranger.run("-m", "pytest", "--repro", *CHECKS, cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    replay = _failure_section(result.stdout, "repro replay")
    assert (
        replay[0] == f"{data} changed since the lineage was recorded: a fresh training does not reproduce it"
    )
    assert replay[1].startswith(f"  {data}: recorded sha256 ")
    assert f"differs ({data} changed; recorded vs fresh outputs)" in result.stdout


def test_repro_vary_all_runs_in_the_ini_only_script_example_and_leaves_it_unchanged(
    stranger: StrangerVenv, tmp_path: Path
):
    """Issue 21's done-when: in an ini-only script project, `repro-vary --vary all` runs (no config file)."""
    project = _example(tmp_path / "project")
    assert not (project / "config.yaml").exists()
    before = snapshot(project)

    hunt = stranger.run_command(
        "repro-vary", "--vary", "all", "--json", str(tmp_path / "hunt.json"), cwd=project
    )

    output = _ok(hunt)
    assert describe_difference(before, snapshot(project)) == ""
    assert "reproducible under every variation checked" in output, output
    report = json.loads((tmp_path / "hunt.json").read_text(encoding="utf-8"))
    assert report["entry"] == "command: python src/train.py"
    statuses = {v["name"]: (v["status"], v["note"]) for v in report["variations"]}
    # The script ran under the variations it can be given; cwd is the one it cannot, and says why.
    assert statuses["cwd"] == (
        "not applicable",
        "a command always runs from its own copy of the project (the path variation moves that copy)",
    )
    for name in ("hashseed", "threads", "path", "tz", "umask", "home"):
        assert statuses[name][0] == "identical", (name, statuses[name])
