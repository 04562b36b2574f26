"""`repro-vary` trains what `pytest --repro` trains: a command as well as a function, read from the same ini.

The projects are repository-shaped and adopted with ini lines alone: the nearest-centroid
script of `support/script_projects.py` (standard library, cheap) for the settings and the
printed rerun lines, and a small scikit-learn model trained by a script and by a function
for the verdict matrix.  Every run is a real subprocess; the project tree is snapshotted
around each command run.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from script_projects import command_ini, function_ini, script_project
from tree_snapshot import describe_difference, snapshot

from pytest_repro.cli.repro_run import main as run_main
from pytest_repro.cli.repro_vary import main
from pytest_repro.errors import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED
from pytest_repro.variations import VariationReport, rerun_command

BIN = Path(sys.executable).parent
CONSOLE_SCRIPT = BIN / "repro-vary"
# The f1 metric moves with the local time zone: 0 under TZ=UTC, 14 under GMT-14.
TZ_NOISE = "__import__('time').localtime(0).tm_hour"
NOT_APPLICABLE_CWD = (
    "a command always runs from its own copy of the project (the path variation moves that copy)"
)


def _shell_environment() -> dict[str, str]:
    """This process's environment with the test venv's commands first on PATH, as an activated shell has it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "REPRO_"))}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", os.defpath)])
    return env


def _vary(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        cwd=project,
        env=_shell_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _statuses(report: Path) -> dict[str, tuple[str, str]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    return {v["name"]: (v["status"], v["note"]) for v in data["variations"]}


# ----------------------------------------------------------------------------- settings from the ini


def test_an_ini_only_script_project_is_varied_and_left_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    project = script_project(tmp_path / "churn", command_ini())
    assert not (project / "config.yaml").exists()  # a command project may have no config file
    monkeypatch.chdir(project)
    before = snapshot(project)

    code = main(["--vary", "tz,cwd", "--json", str(tmp_path / "hunt.json")])

    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    assert describe_difference(before, snapshot(project)) == ""
    statuses = _statuses(tmp_path / "hunt.json")
    assert statuses["tz"] == ("identical", "")
    # The same word and reason as the pytest item vary[cwd] gives a command (test_verdicts.py).
    assert statuses["cwd"] == ("not applicable", NOT_APPLICABLE_CWD)
    row = next(line for line in out.splitlines() if line.startswith("cwd "))
    assert "not applicable" in row and "a command always runs from its own copy" in row
    report = json.loads((tmp_path / "hunt.json").read_text())
    assert report["entry"] == "command: python src/train.py"


def test_the_ini_seed_reaches_a_commands_seed_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    ini = command_ini(repro_seed="7").replace("python src/train.py", "python src/train.py --seed {seed}")
    project = script_project(tmp_path / "churn", ini)
    monkeypatch.chdir(project)

    assert main(["--vary", "hashseed", "--json", str(tmp_path / "hunt.json")]) == EXIT_OK, capsys.readouterr()
    assert json.loads((tmp_path / "hunt.json").read_text())["seed"] == 7


@pytest.mark.parametrize(
    "ini",
    [
        pytest.param(command_ini(repro_tracking="cloud"), id="tracking"),
        pytest.param(command_ini(repro_seed="-3"), id="seed"),
        pytest.param(command_ini(repro_timeout="soon"), id="timeout"),
        pytest.param(command_ini(outputs=()), id="no-outputs"),
        pytest.param(command_ini() + 'repro_train = "pipeline:train"\n', id="both-trainings"),
        pytest.param(function_ini(repro_tolerance="lots"), id="tolerance"),
        pytest.param('repro_trian = "pipeline:train"\n', id="misspelt"),
        pytest.param('repro_outputs = ["models/*"]\n', id="no-training"),
    ],
)
def test_a_bad_setting_is_the_same_line_and_exit_2_as_repro_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ini: str
):
    project = script_project(tmp_path / "churn", ini)
    monkeypatch.chdir(project)
    before = snapshot(project)

    assert run_main([]) == EXIT_USAGE
    from_repro_run = capsys.readouterr().err.splitlines()
    assert main(["--vary", "tz"]) == EXIT_USAGE
    from_repro_vary = capsys.readouterr().err.splitlines()

    assert len(from_repro_vary) == 1 and from_repro_vary == from_repro_run
    assert from_repro_vary[0].startswith("error: pyproject.toml: ")
    assert describe_difference(before, snapshot(project)) == ""


def test_a_config_given_on_the_command_line_must_exist_for_a_command_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(script_project(tmp_path / "churn", command_ini()))

    assert main(["--config", "missing.yaml"]) == EXIT_USAGE
    assert capsys.readouterr().err.strip().endswith("/churn/missing.yaml is not a file")


def test_help_says_it_trains_a_command_as_well_as_a_function(capsys: pytest.CaptureFixture[str]):
    assert main(["--help"]) == EXIT_OK
    text = " ".join(capsys.readouterr().out.split())
    assert "a command (repro_command with repro_outputs; no config file needed)" in text
    assert "a function (repro_train)" in text


# ----------------------------------------------------------------------------- the rerun lines


def _report(config: Path, seed: int | None, tolerance: float = 0.0) -> VariationReport:
    return VariationReport(
        entry="command: python src/train.py",
        config=str(config),
        seed=seed,
        tolerance=tolerance,
        selected=("tz",),
        outcomes={},
        combined=None,
        control=None,
        trainings=2,
    )


def test_a_rerun_names_no_config_the_project_does_not_have_and_the_seed_the_runs_had(tmp_path: Path):
    assert rerun_command(_report(tmp_path / "config.yaml", 5), ("tz",), tmp_path) == (
        "repro-vary --vary tz --seed 5"
    )
    (tmp_path / "conf dir").mkdir()
    (tmp_path / "conf dir" / "train.yaml").write_text("seed: 1\n")
    report = _report(tmp_path / "conf dir" / "train.yaml", None, tolerance=1e-7)
    assert rerun_command(report, ("tz", "home"), tmp_path, fail_portability=True) == (
        "repro-vary --vary tz,home --config 'conf dir/train.yaml' --tolerance 1e-07 --portability fail"
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["command", "function"])
def test_the_rerun_line_a_failing_vary_item_prints_runs_as_printed_and_finds_the_same_variation(
    pytester: pytest.Pytester, kind: str
):
    """The line is pasted into a shell in the project: exit 1 for the planted tz, not 2 for a missing file."""
    if kind == "command":
        # {seed} needs a seed and there is no config file to read one from: the rerun must carry it.
        ini = command_ini().replace("python src/train.py", "python src/train.py --seed {seed}")
    else:
        ini = function_ini()
        (pytester.path / "config.yaml").write_text("seed: 5\n")
    script_project(pytester.path, ini, noise=TZ_NOISE)

    result = pytester.runpytest_subprocess(
        "--repro", "--repro-seed", "5", "--repro-vary=tz", "-k", "vary", "-p", "no:cacheprovider"
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    # Under CI=true pytest prints the whole failure message again in the short summary: one line, twice.
    (line,) = {line for line in result.outlines if line.startswith("rerun: repro-vary")}
    command = line.removeprefix("rerun: ")
    expected = "repro-vary --vary tz --seed 5"
    assert command == (
        expected if kind == "command" else "repro-vary --vary tz --config config.yaml --seed 5"
    )
    before = snapshot(pytester.path)
    rerun = subprocess.run(
        command,
        shell=True,
        cwd=pytester.path,
        env=_shell_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert rerun.returncode == EXIT_VERIFICATION_FAILED, rerun.stdout + rerun.stderr
    assert "NOT reproducible under: tz" in rerun.stdout
    assert describe_difference(before, snapshot(pytester.path)) == ""


@pytest.mark.slow
def test_the_html_reports_rerun_line_runs_as_printed_in_a_command_project(tmp_path: Path):
    import html
    import re

    ini = command_ini(repro_seed="5").replace("python src/train.py", "python src/train.py --seed {seed}")
    project = script_project(tmp_path / "churn", ini, noise=TZ_NOISE)

    hunt = _vary(project, "--vary", "tz", "--html", str(tmp_path / "hunt.html"))

    assert hunt.returncode == EXIT_VERIFICATION_FAILED, hunt.stdout + hunt.stderr
    # The header's context list: one <li> a line, the last one ending with the rerun command.
    markup = (tmp_path / "hunt.html").read_text(encoding="utf-8")
    (command,) = [html.unescape(found) for found in re.findall(r"rerun with: ([^<]*)</li>", markup)]
    assert command == "repro-vary --vary tz --seed 5"
    again = _vary(project, *shlex.split(command)[1:])
    assert again.returncode == EXIT_VERIFICATION_FAILED, again.stdout + again.stderr
    assert "NOT reproducible under: tz" in again.stdout


# ----------------------------------------------------------------------------- function and script, one verdict

DATA = "tenure,visits,spend,churned\n" + "".join(
    f"{i % 13 / 13:.4f},{(i * 7) % 17 / 17:.4f},{(i * 5) % 11 / 11:.4f},{int((i % 13) + (i * 7) % 17 > 14)}\n"
    for i in range(150)
)

CHURN = '''\
"""A small churn model: the one training, run by a script (train.py) or as a function (train)."""
import json
import pickle
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression


def fit(data, out, seed):
    rows = np.loadtxt(data, delimiter=",", skiprows=1)
    X, y = rows[:, :3], rows[:, 3].astype(int)
    X[:, 0] += PLANT
    model = LogisticRegression(C=0.5, random_state=seed).fit(X, y)
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "models" / "model.pkl").write_bytes(pickle.dumps(model))
    (out / "reports").mkdir(parents=True, exist_ok=True)
    metrics = {"accuracy": float(model.score(X, y))}
    (out / "reports" / "metrics.json").write_text(json.dumps(metrics, sort_keys=True))
    return metrics


def train(config_path, output_dir, seed=None):
    """The function training: data beside the code, outputs into output_dir."""
    data = Path(__file__).resolve().parents[1] / "data" / "churn.csv"
    metrics = fit(data, Path(output_dir), 0 if seed is None else seed)
    names = ["models/model.pkl", "reports/metrics.json"]
    return {"artifacts": {name: name for name in names}, "metrics": metrics}
'''

SCRIPT = '''\
"""Train at import time, as scripts do: relative paths, its own seed."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from churn import fit  # noqa: E402

print(fit(Path("data/churn.csv"), Path("."), 0))
'''

# The plant: the first feature shifted by the local time zone's hour at the epoch (0 under UTC).
PLANTS = {"deterministic": "0", "tz": "time.localtime(0).tm_hour / 10"}
INI = {
    "function": 'repro_train = "churn:train"\npythonpath = ["src"]\n',
    "command": 'repro_command = "python src/train.py"\n'
    'repro_outputs = ["models/model.pkl", "reports/metrics.json"]\n'
    'repro_metrics = "reports/metrics.json"\n',
}
MATRIX_VARIATIONS = "hashseed,n_jobs,cwd,tz,home"


def _churn_project(root: Path, kind: str, plant: str) -> Path:
    files = {
        "src/churn.py": CHURN.replace("PLANT", PLANTS[plant]),
        "src/train.py": SCRIPT,
        "data/churn.csv": DATA,
        ".gitignore": "models/\nreports/\n__pycache__/\n",
        "pyproject.toml": "[tool.pytest.ini_options]\n" + INI[kind],
    }
    if kind == "function":
        files["config.yaml"] = "seed: 0\n"
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True, timeout=60)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("plant", PLANTS)
def test_a_function_and_a_script_of_one_model_get_the_same_verdict_per_variation(tmp_path: Path, plant: str):
    found = {}
    for kind in ("function", "command"):
        project = _churn_project(tmp_path / kind / "churn", kind, plant)
        report = tmp_path / f"{kind}.json"
        before = snapshot(project)
        hunt = _vary(project, "--vary", MATRIX_VARIATIONS, "--json", str(report))
        assert describe_difference(before, snapshot(project)) == "", kind
        assert hunt.returncode == (EXIT_OK if plant == "deterministic" else EXIT_VERIFICATION_FAILED), (
            hunt.stdout + hunt.stderr
        )
        found[kind] = _statuses(report)

    function, command = found["function"], found["command"]
    # The one legitimate difference, with its documented reason: a script always runs from its own copy.
    assert function["cwd"][0] == "identical"
    assert command["cwd"] == ("not applicable", NOT_APPLICABLE_CWD)
    words = {
        kind: {name: status for name, (status, _) in found[kind].items() if name != "cwd"} for kind in found
    }
    assert words["function"] == words["command"]
    expected_tz = "identical" if plant == "deterministic" else "differs"
    assert words["command"] == {
        "hashseed": "identical",
        "n_jobs": "not exercised",
        "tz": expected_tz,
        "home": "identical",
    }
    # Neither reads REPRO_N_JOBS: the same reason, whichever way the model was trained.
    assert function["n_jobs"][1] == command["n_jobs"][1]
    assert "never read REPRO_N_JOBS" in command["n_jobs"][1]
