"""`repro-run`: the configured training once, in the project, as a hand run would, and its lineage.

In-process calls of `main` for the settings and the lineage's contents; the real
console script and `pytest` for what a user types.  The projects are
`hand_trained.script_project` (a command) and `function_project` (a function),
adopted with ini lines only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hand_trained import FUNCTION_INI, SCRIPT_INI, edit_one_row, function_project, script_project

from pytest_repro.cli.repro_check import main as check_main
from pytest_repro.cli.repro_export import main as export_main
from pytest_repro.cli.repro_hook import main as hook_main
from pytest_repro.cli.repro_run import main
from pytest_repro.errors import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.verify import verify_lineage

CONSOLE_SCRIPT = Path(sys.executable).parent / "repro-run"


def _lineage(path: Path) -> dict:
    return json.loads(path.read_text())


def _head(root: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = script_project(tmp_path / "churn")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = function_project(tmp_path / "churn-fn")
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    return root


# --- a command -------------------------------------------------------------------------------------


def test_a_command_trains_in_the_project_and_its_lineage_names_what_it_read(
    script: Path, capsys: pytest.CaptureFixture[str]
):
    assert main([]) == EXIT_OK
    err = capsys.readouterr().err
    assert "repro-run: training python src/train.py in the project itself, as by hand" in err
    assert (
        "repro-run: wrote artifacts/lineage.json: 2 inputs (data/train.csv, src/train.py), "
        "2 outputs (models/model.txt, reports/metrics.json), no seed, commit "
    ) in err
    lineage = _lineage(script / "artifacts" / "lineage.json")
    assert lineage["inputs"] == {
        "data/train.csv": {"path": "data/train.csv", "sha256": sha256_file(script / "data" / "train.csv")},
        "src/train.py": {"path": "src/train.py", "sha256": sha256_file(script / "src" / "train.py")},
    }
    assert sorted(lineage["outputs"]) == ["models/model.txt", "reports/metrics.json"]
    assert lineage["outputs"]["models/model.txt"]["path"] == "models/model.txt"  # written in the project
    assert lineage["seed"] is None
    assert lineage["code"] == {"git_commit": _head(script), "dirty": False}
    assert lineage["root"] == ".."
    assert verify_lineage(script / "artifacts" / "lineage.json").passed


def test_a_commands_seed_placeholder_and_an_uncommitted_edit_are_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ini = SCRIPT_INI.replace('"python src/train.py"', '"python src/train.py --seed {seed}"')
    root = script_project(tmp_path / "seeded", ini=ini)
    (root / "src" / "train.py").write_text((root / "src" / "train.py").read_text() + "# edited\n")
    monkeypatch.chdir(root)
    assert main(["--seed", "11"]) == EXIT_OK
    lineage = _lineage(root / "artifacts" / "lineage.json")
    assert lineage["seed"] == 11
    assert lineage["code"]["dirty"] is True


def test_a_stale_output_the_command_did_not_write_is_left_out_saying_so(
    script: Path, capsys: pytest.CaptureFixture[str]
):
    (script / "models").mkdir()
    (script / "models" / "old.txt").write_text("a model from last year\n")
    assert main([]) == EXIT_OK
    assert (
        "repro-run: note: models/old.txt matches repro_outputs but this run did not write it; "
        "left out of the lineage"
    ) in capsys.readouterr().err
    assert "models/old.txt" not in _lineage(script / "artifacts" / "lineage.json")["outputs"]


def test_a_failing_training_records_nothing_and_exits_1(script: Path, capsys: pytest.CaptureFixture[str]):
    assert main([]) == EXIT_OK
    recorded = (script / "artifacts" / "lineage.json").read_bytes()
    (script / "src" / "train.py").write_text("raise SystemExit(3)\n")
    capsys.readouterr()
    assert main([]) == EXIT_VERIFICATION_FAILED
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: the training exited with status 3; no lineage was written"
    )
    assert (script / "artifacts" / "lineage.json").read_bytes() == recorded


@pytest.mark.parametrize(
    ("ini", "line"),
    [
        (
            "[tool.pytest.ini_options]\n",
            'error: pyproject.toml: no training configured; set repro_train = "module:function"',
        ),
        (
            '[tool.pytest.ini_options]\nrepro_command = "python t.py --out {outdir}"\nrepro_outputs = ["m"]\n',
            "error: pyproject.toml: repro_command: unknown placeholder {outdir}; allowed: {seed}, {output_dir}, {config}",
        ),
        (
            '[tool.pytest.ini_options]\nrepro_command = "python t.py"\n',
            "error: pyproject.toml: repro_outputs: not set;",
        ),
        (
            '[tool.pytest.ini_options]\nrepro_comand = "python t.py"\n',
            "error: pyproject.toml: unknown pytest-repro setting 'repro_comand'; did you mean repro_command?",
        ),
        (
            '[tool.pytest.ini_options]\nrepro_train = "trainfn"\n',
            "error: pyproject.toml: ini repro_train: got 'trainfn'; expected module:function",
        ),
        (
            '[tool.pytest.ini_options]\nrepro_train = "t:train"\nrepro_command = "python t.py"\n',
            "error: pyproject.toml: ini repro_train and repro_command are both set",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ini: str, line: str
):
    (tmp_path / "pyproject.toml").write_text(ini)
    monkeypatch.chdir(tmp_path)
    assert main([]) == EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(line), err
    assert not (tmp_path / "artifacts").exists()


def test_a_seed_out_of_range_is_one_line_and_exit_2(script: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--seed", "-1"]) == EXIT_USAGE
    assert capsys.readouterr().err.strip() == "error: --seed: got '-1'; expected an integer in [0, 2**32 - 1]"


def test_settings_are_found_as_pytest_finds_them_from_a_subfolder(
    script: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    (script / "pyproject.toml").write_text(SCRIPT_INI + 'repro_lineage = "lineage/train.json"\n')
    monkeypatch.chdir(script / "src")
    assert main([]) == EXIT_OK
    assert (script / "lineage" / "train.json").is_file()
    assert not (script / "src" / "models").exists(), "the command ran in the rootdir, as pytest runs it"


def test_every_cli_reads_repro_lineage_from_the_ini(
    script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (script / "pyproject.toml").write_text(SCRIPT_INI + 'repro_lineage = "lineage/train.json"\n')
    assert main([]) == EXIT_OK
    assert check_main(["--no-report"]) == EXIT_OK
    assert hook_main(["lineage"]) == EXIT_OK
    assert hook_main(["lineage", "--changed", "data/train.csv"]) == EXIT_OK
    assert export_main(["sha256sums", "--output", str(tmp_path / "SHA256SUMS")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "repro-hook lineage: all 4 files match lineage/train.json" in out
    edit_one_row(script / "data" / "train.csv")
    assert check_main(["--no-report"]) == EXIT_VERIFICATION_FAILED
    assert hook_main(["lineage", "--changed", "data/train.csv"]) == EXIT_VERIFICATION_FAILED
    assert "FAILED data/train.csv: SHA-256 is" in capsys.readouterr().err


def test_pytest_m_lineage_verifies_what_repro_run_wrote(pytester: pytest.Pytester):
    script_project(pytester.path)
    assert main([]) == EXIT_OK
    result = pytester.runpytest("-m", "lineage", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)  # the twins' lineage items need --repro
    result.stdout.fnmatch_lines(["artifacts/lineage.json .*"])
    edit_one_row(pytester.path / "data" / "train.csv")
    result = pytester.runpytest("-m", "lineage", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, skipped=2)
    result.stdout.fnmatch_lines(["data/train.csv: SHA-256 is *"])


def test_the_console_script_runs_a_command(script: Path):
    assert CONSOLE_SCRIPT.is_file(), "pip install -e '.[dev]' installs the console scripts"
    result = subprocess.run(
        [str(CONSOLE_SCRIPT)], cwd=script, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "trained on 60 rows\n"  # the training's own output, as by hand
    assert result.stderr.splitlines()[-1].startswith("repro-run: wrote artifacts/lineage.json: 2 inputs")


# --- a function ------------------------------------------------------------------------------------


def test_a_function_trains_into_the_lineages_folder_and_its_lineage_names_what_it_read(
    function: Path, capsys: pytest.CaptureFixture[str]
):
    assert main([]) == EXIT_OK
    lineage = _lineage(function / "artifacts" / "lineage.json")
    assert sorted(lineage["inputs"]) == ["config", "data/train.csv", "trainfn.py"]
    assert lineage["inputs"]["config"]["path"] == "config.yaml"
    assert lineage["outputs"] == {
        "metrics": {
            "path": "artifacts/metrics.json",
            "sha256": sha256_file(function / "artifacts" / "metrics.json"),
        },
        "model": {"path": "artifacts/model.txt", "sha256": sha256_file(function / "artifacts" / "model.txt")},
    }
    assert lineage["code"] == {"git_commit": _head(function), "dirty": False}
    assert (
        "3 inputs (config, data/train.csv, trainfn.py), 2 outputs (metrics, model)" in capsys.readouterr().err
    )


def test_a_function_trains_into_output_dir_when_given(function: Path):
    assert main(["--output-dir", "out", "--seed", "9"]) == EXIT_OK
    lineage = _lineage(function / "artifacts" / "lineage.json")
    assert lineage["outputs"]["model"]["path"] == "out/model.txt"
    assert lineage["seed"] == 9


def test_a_function_that_does_not_import_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    root = function_project(tmp_path / "p", ini=FUNCTION_INI.replace("trainfn:train", "nosuch:train"))
    monkeypatch.chdir(root)
    assert main([]) == EXIT_USAGE
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .startswith("error: repro_train 'nosuch:train': cannot import 'nosuch'")
    )


def test_the_console_script_runs_a_function(function: Path):
    result = subprocess.run(
        [str(CONSOLE_SCRIPT)], cwd=function, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (function / "artifacts" / "lineage.json").is_file()
    assert shutil.which("git")
