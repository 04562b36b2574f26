"""A user's install, tested as a stranger would: the wheel, installed non-editable in a fresh venv, in a foreign project.

The wheel is built once per session from a clean copy of the checkout; a fresh virtual
environment (no system site-packages) gets the wheel and scikit-learn (the foreign
project's own dependency) from pip; the foreign project has its own `training` package,
so a plugin that imported this repository's demo would find the wrong one.  Every
command runs from the foreign project's folder with that venv's interpreter and no
PYTHONPATH.  pip reaches PyPI for the dependencies.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from builtin_binding import CLASS_ATTRIBUTES
from foreign_project import write_foreign_project
from installed_wheel import (
    StrangerVenv,
    build_wheel,
    create_venv,
    wheel_console_scripts,
    wheel_top_level_names,
)

pytestmark = pytest.mark.slow

# The plugin generates its twin checks only when the configured config file exists, so
# the stranger keeps one beside the pyproject; their training reads its seeds from code.
FOREIGN_CONFIG = "# pytest-repro's config file; the training keeps its seeds in training/train.py.\nseed: 0\n"
SUMMARY_LINE = re.compile(r"^(?P<outcome>PASSED|FAILED|ERROR|XPASS|XFAIL) (?P<nodeid>\S+)", re.MULTILINE)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once per session from a clean copy of the checkout."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def stranger_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> StrangerVenv:
    """A fresh venv holding the wheel (non-editable) and scikit-learn, as a stranger installs them."""
    venv = create_venv(tmp_path_factory.mktemp("stranger") / "venv")
    venv.install(str(wheel), "scikit-learn")
    return venv


@pytest.fixture(scope="session")
def foreign_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stranger's repository, with its own `training` package and tests."""
    return write_foreign_project(tmp_path_factory.mktemp("churn-model"), config=FOREIGN_CONFIG)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_wheel_ships_the_pytest_repro_package_and_nothing_else(wheel: Path):
    # No training (the demo), tests, scripts, benchmarks or examples: they stay in the checkout.
    assert wheel_top_level_names(wheel) == {"pytest_repro"}


def test_the_venv_is_fresh_and_holds_the_wheel_not_the_checkout(stranger_venv: StrangerVenv, tmp_path: Path):
    cfg = configparser.ConfigParser()
    cfg.read_string("[venv]\n" + (stranger_venv.root / "pyvenv.cfg").read_text(encoding="utf-8"))
    assert cfg["venv"]["include-system-site-packages"].strip().lower() == "false"

    site_packages = stranger_venv.site_packages()
    files = stranger_venv.module_files("pytest_repro", "pytest_repro.plugin", cwd=tmp_path)

    assert files["pytest_repro"].is_relative_to(site_packages), files
    assert files["pytest_repro.plugin"].is_relative_to(site_packages), files
    # An editable install would leave a path hook behind instead of the package's files.
    assert not list(site_packages.glob("__editable__*")), list(site_packages.glob("__editable__*"))


def test_the_foreign_project_imports_its_own_training_beside_the_plugin(
    stranger_venv: StrangerVenv, foreign_project: Path
):
    files = stranger_venv.module_files("pytest_repro", "training", cwd=foreign_project)

    assert files["training"] == foreign_project / "training" / "__init__.py", files
    assert files["pytest_repro"].is_relative_to(stranger_venv.site_packages()), files


def test_the_foreign_projects_own_tests_pass_with_the_plugin_loaded(
    stranger_venv: StrangerVenv, foreign_project: Path
):
    result = stranger_venv.run("-m", "pytest", cwd=foreign_project)

    assert result.returncode == 0, _output(result)
    assert "Error while loading" not in result.stdout + result.stderr, _output(result)
    assert re.search(r"^plugins: .*\brepro-", result.stdout, re.MULTILINE), _output(result)
    assert re.search(r"\b1 passed\b", result.stdout), _output(result)


def _assert_twin_checks_pass(result: subprocess.CompletedProcess[str]) -> None:
    """Every check pytest --repro generated passed, beside the foreign project's own test."""
    assert result.returncode == 0, _output(result)
    outcomes = [(m["outcome"], m["nodeid"]) for m in SUMMARY_LINE.finditer(result.stdout)]
    generated = {nodeid.partition("::")[2] for outcome, nodeid in outcomes if not nodeid.startswith("tests/")}
    passed = {
        nodeid.partition("::")[2]
        for outcome, nodeid in outcomes
        if outcome == "PASSED" and not nodeid.startswith("tests/")
    }
    assert {"folds", "metrics"} <= passed, _output(result)
    assert any(name.startswith("artifact") for name in passed), _output(result)
    assert passed == generated, _output(result)
    assert ("PASSED", "tests/test_smoke.py::test_fit_writes_the_model_and_its_metrics") in outcomes


def test_pytest_repro_twin_checks_pass_in_the_foreign_project(
    stranger_venv: StrangerVenv, foreign_project: Path
):
    result = stranger_venv.run(
        "-m", "pytest", "--repro", "-p", "no:cacheprovider", "-rA", cwd=foreign_project
    )

    _assert_twin_checks_pass(result)


# A repository that pinned its test runner and its model library before adopting pytest-repro.
PINNED = {"pytest": "8.2.0", "scikit-learn": "1.5.1"}


def _frozen(venv: StrangerVenv) -> dict[str, str]:
    """`pip freeze --all` as name -> version (or the `@ file://` source of a wheel installed by path)."""
    result = venv.run("-m", "pip", "freeze", "--all", cwd=venv.root)
    assert result.returncode == 0, _output(result)
    pairs = (re.split(r"==| @ ", line, maxsplit=1) for line in result.stdout.splitlines())
    return {pair[0].lower(): pair[1] for pair in pairs if len(pair) == 2}


def test_installing_the_sklearn_extra_keeps_the_projects_pinned_pytest_and_scikit_learn(
    wheel: Path, foreign_project: Path, tmp_path_factory: pytest.TempPathFactory
):
    venv = create_venv(tmp_path_factory.mktemp("pinned") / "venv")
    venv.install(*(f"{name}=={version}" for name, version in PINNED.items()))
    before = _frozen(venv)

    venv.install(f"{wheel}[sklearn]")

    after = _frozen(venv)
    assert {name: after.get(name) for name in PINNED} == PINNED, after
    # Nothing installed before (numpy, joblib, threadpoolctl, pip...) changed either.
    assert {name: after.get(name) for name in before} == before, after
    assert "pytest-repro" in after, after
    # Bare `pytest`, the venv's own console script, as the project's CI would call it.
    result = venv.run_command(
        str(venv.bin / "pytest"), "--repro", "-p", "no:cacheprovider", "-rA", cwd=foreign_project
    )
    assert "pytest-8.2.0" in result.stdout, _output(result)
    _assert_twin_checks_pass(result)


# A stranger's training whose output depends on today's date: the time variation must catch it.
AGE_TRAINING = """\
import datetime, json, os

def train(config_path, output_dir, seed=None):
    with open(os.path.join(output_dir, "cohort.json"), "w") as handle:
        json.dump({"days_since_2020": (datetime.date.today() - datetime.date(2020, 1, 1)).days}, handle)
    return {"artifacts": {"cohort": "cohort.json"}, "metrics": {}}
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="the time variation compiles its clock shim with cc")
def test_a_logging_command_passes_its_twins_and_reversed_listings_from_the_installed_wheel(
    stranger_venv: StrangerVenv, tmp_path: Path
):
    # The run site (recorder, dir_order) runs from site-packages in every process of the command:
    # the script logs with the time and keeps builtins in a class, and fails if they bind.
    project = tmp_path / "logs"
    project.mkdir()
    (project / "train.py").write_text(
        CLASS_ATTRIBUTES + 'os.makedirs("out", exist_ok=True)\n'
        'open("out/listing.txt", "w").write(",".join(sorted(os.listdir("."))))\n',
        encoding="utf-8",
    )
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_command = "python train.py"\nrepro_outputs = ["out/listing.txt"]\n',
        encoding="utf-8",
    )
    result = stranger_venv.run(
        "-m", "pytest", "--repro", "--repro-vary=dir_order", "-p", "no:cacheprovider", "-rA", cwd=project
    )

    outcomes = {m["nodeid"].partition("::")[2]: m["outcome"] for m in SUMMARY_LINE.finditer(result.stdout)}
    assert outcomes.get("artifacts") == "PASSED", _output(result)
    assert outcomes.get("vary[dir_order]") == "PASSED", _output(result)
    assert "Logging error" not in result.stdout + result.stderr, _output(result)
    assert result.returncode == 0, _output(result)


def test_the_time_variation_shifts_the_clock_from_the_installed_wheel(
    stranger_venv: StrangerVenv, tmp_path: Path
):
    # Its clock shim is C source shipped as package data and compiled on first use: from
    # site-packages, not from the checkout, it must be found, built, preloaded and shift the date.
    project = tmp_path / "cohorts"
    project.mkdir()
    (project / "cohort_age.py").write_text(AGE_TRAINING, encoding="utf-8")
    (project / "config.yaml").write_text("seed: 0\n", encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_train = "cohort_age:train"\nrepro_artifacts = ["cohort"]\n',
        encoding="utf-8",
    )
    result = stranger_venv.run(
        "-m",
        "pytest",
        "--repro",
        "--repro-vary=time",
        "--repro-seed-sensitivity=off",
        "-p",
        "no:cacheprovider",
        "-rA",
        cwd=project,
    )

    outcomes = {m["nodeid"].partition("::")[2]: m["outcome"] for m in SUMMARY_LINE.finditer(result.stdout)}
    assert outcomes.get("vary[time]") == "FAILED", _output(result)
    assert outcomes.get("artifact[cohort]") == "PASSED", _output(result)  # the twins share a clock
    assert "time (" in result.stdout and "cohort" in result.stdout, _output(result)
    assert result.returncode == 1, _output(result)


def test_every_console_script_starts_in_the_foreign_project(
    wheel: Path, stranger_venv: StrangerVenv, foreign_project: Path
):
    scripts = wheel_console_scripts(wheel)
    assert scripts, "the wheel declares no console scripts"

    failures = {}
    for name in scripts:
        result = stranger_venv.run_command(str(stranger_venv.bin / name), "--help", cwd=foreign_project)
        if result.returncode != 0:
            failures[name] = _output(result)

    # Console scripts do not put the current folder on sys.path: a command that imported
    # the demo's training package fails here even beside the stranger's own.
    assert not failures, "\n\n".join(f"{name} --help: {output}" for name, output in failures.items())


def test_without_the_sign_extra_repro_keygen_names_the_extra_and_writes_nothing(
    stranger_venv: StrangerVenv, tmp_path: Path
):
    absent = stranger_venv.run("-c", "import cryptography", cwd=tmp_path)
    if absent.returncode == 0:
        pytest.skip("a dependency of the stranger's install brought cryptography after all")
    result = stranger_venv.run_command(str(stranger_venv.bin / "repro-keygen"), "signing.pem", cwd=tmp_path)

    assert (result.returncode, result.stderr) == (
        2,
        "error: Ed25519 signing needs the optional package 'cryptography', which is not installed: "
        "pip install 'pytest-repro[sign]'\n",
    ), _output(result)
    assert not list(tmp_path.iterdir())
