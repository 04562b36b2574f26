"""`repro-hook`, the pre-commit hooks, called in-process: exit codes, messages, and no writes."""

from __future__ import annotations

import json
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from checkout import ROOT as REPO
from fake_project import FakeProject

from pytest_repro.cli.repro_hook import main
from pytest_repro.errors import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED
from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.signing import KEY_ENV, REQUIRE_ENV, sign_lineage

KEY_HEX = "5e" * 32
MISSING = "Missing artifacts/lineage.json. Run training first."
FILES = FakeProject.FILES


@pytest.fixture
def project(fake_project: FakeProject, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trained-looking project as the working directory: inputs, artifacts and their lineage."""
    root = fake_project.root
    shutil.copyfile(REPO / "config.yaml", root / "config.yaml")
    fake_project.write_lineage(environment={"python": "3.11"})
    monkeypatch.chdir(root)
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    return root


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- repro-hook config ---------------------------------------------------------------------------


def test_valid_config_passes_with_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = tmp_path / "config.yaml"
    shutil.copyfile(REPO / "config.yaml", config)
    assert main(["config", str(config)]) == EXIT_OK
    assert capsys.readouterr().err == ""


def test_invalid_config_names_file_and_dotted_key_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    config = tmp_path / "config.yaml"
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("n_splits: 5", "n_splits: 1"), encoding="utf-8")
    assert main(["config", str(config)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{config}: cv.n_splits: got 1" in err
    assert "Traceback" not in err


def test_every_problem_of_every_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    first, second, good = tmp_path / "config-a.yaml", tmp_path / "config-b.yaml", tmp_path / "config.yaml"
    first.write_text(
        text.replace("n_splits: 5", "n_splits: 1").replace("test_size: 0.2", "test_size: 2"), encoding="utf-8"
    )
    second.write_text(text.replace("max_depth: 8", "max_depth: -3"), encoding="utf-8")
    good.write_text(text, encoding="utf-8")
    assert main(["config", str(first), str(good), str(second)]) == EXIT_USAGE
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines
    assert any(f"{first}: cv.n_splits:" in line for line in lines)
    assert any(f"{first}: data.test_size:" in line for line in lines)
    assert any(f"{second}: models.decision_tree.max_depth:" in line for line in lines)
    assert all(line.startswith("error: ") for line in lines)


def test_missing_config_file_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["config", str(tmp_path / "config.yaml")]) == EXIT_USAGE
    assert "config file not found" in capsys.readouterr().err


def test_config_without_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exc:
        main(["config"])
    assert exc.value.code == EXIT_USAGE
    assert "FILE" in capsys.readouterr().err


# --- repro-hook lineage --------------------------------------------------------------------------


def test_untouched_project_passes_with_exit_0(project: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["lineage"]) == EXIT_OK
    out = capsys.readouterr()
    assert "all 6 files match artifacts/lineage.json" in out.out
    assert out.err == ""


@pytest.mark.parametrize("name", ["model", "threshold", "config", "dataset"])
def test_one_changed_byte_fails_naming_the_file_with_exit_1(
    project: Path, name: str, capsys: pytest.CaptureFixture[str]
):
    _flip_one_byte(project / FILES[name])
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    err = capsys.readouterr().err
    assert f"FAILED {name}: {FILES[name]}: SHA-256 is " in err
    assert "1 of 6 files differ" in err
    assert err.count("FAILED") == 1


def test_deleted_artifact_fails_naming_the_file(project: Path, capsys: pytest.CaptureFixture[str]):
    (project / FILES["threshold"]).unlink()
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    assert "FAILED threshold: artifacts/threshold.txt: file not found" in capsys.readouterr().err


def test_missing_lineage_says_run_training_first_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    assert main(["lineage", "config.yaml"]) == EXIT_VERIFICATION_FAILED
    assert capsys.readouterr().err.strip() == f"error: {MISSING}"


def test_changed_file_names_are_ignored(project: Path):
    # pre-commit passes nothing (pass_filenames: false), but a user may; verification stays whole.
    assert main(["lineage", "no-such-file.csv", "config.yaml"]) == EXIT_OK
    _flip_one_byte(project / FILES["model"])
    assert main(["lineage", "config.yaml"]) == EXIT_VERIFICATION_FAILED


def test_lineage_option_verifies_another_manifest(project: Path, capsys: pytest.CaptureFixture[str]):
    (project / "records").mkdir()
    (project / "artifacts" / "lineage.json").rename(project / "records" / "lineage.json")
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    assert main(["lineage", "--lineage", "records/lineage.json"]) == EXIT_OK
    assert "all 6 files match records/lineage.json" in capsys.readouterr().out


def test_malformed_lineage_is_one_line_with_exit_1(project: Path, capsys: pytest.CaptureFixture[str]):
    (project / "artifacts" / "lineage.json").write_text("{not json", encoding="utf-8")
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    err = capsys.readouterr().err
    assert err.startswith("error: artifacts/lineage.json: malformed lineage JSON")
    assert len(err.splitlines()) == 1


def test_lineage_hook_writes_nothing(project: Path):
    # pre-commit fails a hook that modifies tracked files, and some users commit artifacts/.
    before = _tree(project)
    assert main(["lineage"]) == EXIT_OK
    assert _tree(project) == before
    _flip_one_byte(project / FILES["model"])
    before = _tree(project)
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    assert _tree(project) == before


def test_lineage_reaching_outside_the_repository_fails_with_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str]
):
    lineage_path = project / "artifacts" / "lineage.json"
    lineage = json.loads(lineage_path.read_text(encoding="utf-8"))
    lineage["root"] = "../.."
    lineage_path.write_bytes(canonical_json(lineage))
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    assert "resolves outside the project root" in capsys.readouterr().err


# --- signed lineages (the hook runs the same check as the check script) ---------------------------


def test_signed_lineage_passes_with_the_key(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    sign_lineage(project / "artifacts" / "lineage.json", bytes.fromhex(KEY_HEX))
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    assert main(["lineage", "--require-signature"]) == EXIT_OK
    assert capsys.readouterr().err == ""


def test_signed_lineage_without_the_key_passes_with_a_note(project: Path, capsys: pytest.CaptureFixture[str]):
    sign_lineage(project / "artifacts" / "lineage.json", bytes.fromhex(KEY_HEX))
    assert main(["lineage"]) == EXIT_OK
    assert "signature not verified" in capsys.readouterr().err


def test_lineage_changed_after_signing_fails_with_exit_1(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    lineage_path = project / "artifacts" / "lineage.json"
    sign_lineage(lineage_path, bytes.fromhex(KEY_HEX))
    signed = lineage_path.read_bytes()
    lineage_path.write_bytes(signed.replace(b'"seed": 42', b'"seed": 43'))
    assert lineage_path.read_bytes() != signed
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    assert "the lineage was changed after signing" in capsys.readouterr().err


def test_required_signature_fails_an_unsigned_lineage_with_exit_1(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv(KEY_ENV, KEY_HEX)
    monkeypatch.setenv(REQUIRE_ENV, "1")
    assert main(["lineage"]) == EXIT_VERIFICATION_FAILED
    assert "a signature is required" in capsys.readouterr().err


def test_required_signature_without_a_key_is_a_config_error(
    project: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["lineage", "--require-signature"]) == EXIT_USAGE
    assert f"environment: {KEY_ENV}: not set" in capsys.readouterr().err


# --- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["config", "--help"], ["lineage", "--help"]])
def test_help_exits_0(argv: list[str], capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == EXIT_OK
    assert "usage: repro-hook" in capsys.readouterr().out


def test_top_level_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "0 ok, 1 lineage mismatch or missing, 2 usage or configuration error" in out


@pytest.mark.parametrize("argv", [[], ["verify"], ["lineage", "--bogus"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == EXIT_USAGE
    assert "error:" in capsys.readouterr().err


def test_console_script_points_at_main():
    (script,) = entry_points(group="console_scripts", name="repro-hook")
    assert script.value == "pytest_repro.cli.repro_hook:main"
    assert script.load() is main


# --- --changed: the hooks fire on the project's own files ---------------------------------------


@pytest.mark.parametrize(
    ("changed", "verified"),
    [
        ("config.yaml", True),
        ("ml_datasource.csv", True),
        ("artifacts/best_model.joblib", True),
        ("artifacts/lineage.json", True),
        ("dataset_pins.yaml", True),
        ("data/sales.csv", False),
        ("training/run.py", False),
        ("README.md", False),
    ],
)
def test_changed_files_verify_the_lineage_only_when_it_records_or_names_one(
    project: Path, changed: str, verified: bool, capsys: pytest.CaptureFixture[str]
):
    _flip_one_byte(project / FILES["model"])  # so that a verification shows itself by failing
    code = main(["lineage", "--changed", changed, "NOTES.md"])
    out = capsys.readouterr()
    assert code == (EXIT_VERIFICATION_FAILED if verified else EXIT_OK), out
    if not verified:
        assert out.out.strip() == (
            "repro-hook lineage: no changed file is an input, output or config artifacts/lineage.json concerns"
        )


SCRIPT_INI = """\
[tool.pytest.ini_options]
repro_command = "python src/train.py"
repro_outputs = ["models/*.pkl"]
repro_metrics = "reports/metrics.json"
repro_lineage = "reports/lineage.json"
repro_pins = "pins.yaml"
"""


@pytest.mark.parametrize(
    ("changed", "concerned"),
    [
        ("models/churn.pkl", True),
        ("reports/metrics.json", True),
        ("reports/lineage.json", True),
        ("pins.yaml", True),
        ("src/train.py", False),  # an input only once a lineage records it
        ("NOTES.md", False),
    ],
)
def test_a_script_project_without_a_lineage_yet_is_told_to_train_when_its_outputs_change(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    changed: str,
    concerned: bool,
    capsys: pytest.CaptureFixture[str],
):
    (tmp_path / "pyproject.toml").write_text(SCRIPT_INI)
    monkeypatch.chdir(tmp_path)
    code = main(["lineage", "--changed", changed])
    err = capsys.readouterr().err
    assert code == (EXIT_VERIFICATION_FAILED if concerned else EXIT_OK)
    assert ("Missing reports/lineage.json. Run training first." in err) is concerned


def test_the_lineage_hook_reads_repro_lineage_from_the_ini_found_above(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_lineage = "kept/lineage.json"\n'
    )
    (project / "kept").mkdir()
    (project / "artifacts" / "lineage.json").rename(project / "kept" / "lineage.json")
    monkeypatch.chdir(project / "artifacts")  # pytest finds the ini file from a subfolder too
    assert main(["lineage"]) == EXIT_OK
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith("all 6 files match " + str(project / "kept" / "lineage.json"))
    )


def test_the_config_hook_validates_only_the_projects_configs_among_the_changed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nrepro_config = "params.yaml"\n')
    (tmp_path / "params.yaml").write_text("lr: [1, 2\n")  # broken YAML
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: [\n")  # not a training config
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "config-small.yml").write_text("seed: 1\n")
    monkeypatch.chdir(tmp_path)
    assert (
        main(["config", "--changed", "dvc.yaml", ".pre-commit-config.yaml", "experiments/config-small.yml"])
        == EXIT_OK
    )
    assert "1 config file(s) valid" in capsys.readouterr().out
    assert main(["config", "--changed", "dvc.yaml", "params.yaml"]) == EXIT_USAGE
    assert "params.yaml" in capsys.readouterr().err
    assert main(["config", "--changed", "README.md"]) == EXIT_OK
    assert "no changed file is a training config" in capsys.readouterr().out
