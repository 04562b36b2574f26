"""`repro-pin` writes pins where the project commits them (ini `repro_pins`), and trainings check them there."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_repro.cli.repro_pin import main
from pytest_repro.errors import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED, DatasetPinError
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.pins import PINS_FILE, check_dataset_pin


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "customers.csv").write_text("a,b\n1,2\n")
    (tmp_path / "data" / "holdout.csv").write_text("a,b\n3,4\n")
    (tmp_path / "ci").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nrepro_pins = "ci/pins.yaml"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _pins(path: Path) -> dict[str, str]:
    return yaml.safe_load(path.read_text())


def test_pins_go_to_the_registry_the_ini_names_keyed_by_path(
    project: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["data/raw/customers.csv", "data/holdout.csv"]) == EXIT_OK
    assert _pins(project / "ci" / "pins.yaml") == {
        "../data/holdout.csv": sha256_file(project / "data" / "holdout.csv"),
        "../data/raw/customers.csv": sha256_file(project / "data" / "raw" / "customers.csv"),
    }
    assert not (project / "data" / PINS_FILE).exists() and not (project / "data" / "raw" / PINS_FILE).exists()
    assert "data/holdout.csv: pinned in ci/pins.yaml (sha256 " in capsys.readouterr().out
    assert main(["--verify", "data/holdout.csv"]) == EXIT_OK


def test_a_changed_dataset_fails_its_pin_in_the_registry(project: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["data/holdout.csv"]) == EXIT_OK
    (project / "data" / "holdout.csv").write_text("a,b\n3,5\n")
    assert main(["--verify", "data/holdout.csv"]) == EXIT_VERIFICATION_FAILED
    assert "data/holdout.csv: SHA-256 is " in capsys.readouterr().err
    with pytest.raises(DatasetPinError):
        check_dataset_pin(project / "data" / "holdout.csv", registry=project / "ci" / "pins.yaml")


def test_the_pins_option_wins_over_the_ini_and_without_either_pins_stay_beside(
    project: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["--pins", "other.yaml", "data/holdout.csv"]) == EXIT_OK
    assert list(_pins(project / "other.yaml")) == ["data/holdout.csv"]
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    assert main(["data/holdout.csv"]) == EXIT_OK
    assert list(_pins(project / "data" / PINS_FILE)) == ["holdout.csv"]


def test_a_missing_registry_names_it_with_exit_2(project: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--verify", "data/holdout.csv"]) == EXIT_USAGE
    assert capsys.readouterr().err.strip() == (
        "error: data/holdout.csv: no pin registry ci/pins.yaml; pin it with: repro-pin data/holdout.csv"
    )
