"""The bundled dataset: byte-reproducible generation, its marginals, its pin, and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from checkout import demo_environment

from benchmarks.synthetic_data import (
    DATASET_COLUMNS,
    DATASET_ROWS,
    DATASET_SEED,
    MAX_ROWS,
    MIN_ROWS,
    col,
    generate_csv,
    write_dataset,
)
from pytest_repro.errors import EXIT_OK, EXIT_USAGE, EXIT_VERIFICATION_FAILED, DatasetError, DatasetPinError
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.pins import PINS_FILE, check_dataset_pin, pin_dataset

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "ml_datasource.csv"
SMALL_ROWS = 400


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    return _load_dataset(BUNDLED.read_bytes(), str(BUNDLED), col.PURCHASED)


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_bytes(generate_csv(seed=7, n_rows=SMALL_ROWS))
    return path


# Generation


def test_same_seed_gives_identical_bytes() -> None:
    assert generate_csv(seed=11, n_rows=2_000) == generate_csv(seed=11, n_rows=2_000)


def test_other_seed_gives_different_bytes() -> None:
    assert generate_csv(seed=11, n_rows=2_000) != generate_csv(seed=12, n_rows=2_000)


def test_generate_reproduces_the_committed_dataset_byte_for_byte(tmp_path: Path) -> None:
    digest = write_dataset(tmp_path / "ml_datasource.csv")
    assert digest == sha256_file(BUNDLED)
    assert digest == sha256_file(tmp_path / "ml_datasource.csv")


def test_committed_dataset_matches_its_pin() -> None:
    assert check_dataset_pin(BUNDLED) == sha256_file(BUNDLED)


def test_csv_has_fixed_decimals_lf_line_ends_and_no_index() -> None:
    text = generate_csv(seed=3, n_rows=1_000).decode("ascii")
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    assert lines[0] == ",".join(DATASET_COLUMNS)
    row = re.compile(r"[A-Z]{2},\d+,\d+\.\d,\d+,\d+,\d+,\d+\.\d\d,[01]")
    assert all(row.fullmatch(line) for line in lines[1:])


def test_small_dataset_has_requested_rows_both_classes_and_namibia(small_csv: Path) -> None:
    frame = _load_dataset(small_csv.read_bytes(), str(small_csv), col.PURCHASED)
    assert len(frame) == SMALL_ROWS
    assert set(frame[col.PURCHASED]) == {0, 1}
    assert "NA" in set(frame[col.COUNTRY])


@pytest.mark.parametrize(("seed", "n_rows"), [(-1, 100), (1, MIN_ROWS - 1), (1.5, 100), (1, True)])
def test_bad_seed_or_row_count_is_refused_naming_the_parameter(seed: object, n_rows: object) -> None:
    with pytest.raises(ValueError, match=r"seed|n_rows"):
        generate_csv(seed=seed, n_rows=n_rows)  # type: ignore[arg-type]


# Marginals of the bundled file


def test_bundled_dataset_has_the_public_row_count_and_planted_duplicates(bundled: pd.DataFrame) -> None:
    assert len(bundled) == DATASET_ROWS == 17_761
    assert bundled.duplicated().sum() == 575


def test_bundled_positive_rate_is_about_nine_percent(bundled: pd.DataFrame) -> None:
    assert 0.087 <= bundled[col.PURCHASED].mean() <= 0.097


@pytest.mark.parametrize(
    ("column", "low", "high"),
    [
        (col.DAYS_ON_PLATFORM, 0, 292),
        (col.MINUTES_WATCHED, 0.1, 5312.3),
        (col.COURSES_STARTED, 1, 16),
        (col.EXAMS_STARTED, 0, 76),
        (col.EXAMS_PASSED, 0, 63),
        (col.MINUTES_ON_EXAMS, 0.0, 457.41),
    ],
)
def test_bundled_column_hits_the_public_min_and_max(
    bundled: pd.DataFrame, column: str, low: float, high: float
) -> None:
    assert bundled[column].min() == low
    assert bundled[column].max() == high


def test_bundled_medians_match_the_public_dataset(bundled: pd.DataFrame) -> None:
    assert 103 <= bundled[col.DAYS_ON_PLATFORM].median() <= 123
    assert 5.5 <= bundled[col.MINUTES_WATCHED].median() <= 8.5


def test_bundled_countries_are_172_led_by_india_us_egypt(bundled: pd.DataFrame) -> None:
    counts = bundled[col.COUNTRY].value_counts()
    assert len(counts) == 172
    assert list(counts.index[:3]) == ["IN", "US", "EG"]
    assert "NA" in counts.index
    assert bundled[col.COUNTRY].notna().all()


def test_bundled_passed_exams_never_exceed_started(bundled: pd.DataFrame) -> None:
    assert (bundled[col.EXAMS_PASSED] <= bundled[col.EXAMS_STARTED]).all()


def test_quick_logistic_regression_learns_but_not_perfectly(bundled: pd.DataFrame) -> None:
    # Imported here: collecting this module must not import scikit-learn (every `pytest --repro` collects it).
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.log1p(bundled[list(col.NUMERIC_INPUTS)].to_numpy())
    y = bundled[col.PURCHASED].to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000)).fit(X_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    assert 0.6 < auc < 0.99


# Pins


def test_pin_then_check_passes_and_registry_is_sorted_with_instructions(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes(b"x\n1\n")
    (tmp_path / "a.csv").write_bytes(b"x\n2\n")
    digest_b = pin_dataset(tmp_path / "b.csv")
    digest_a = pin_dataset(tmp_path / "a.csv")
    assert check_dataset_pin(tmp_path / "a.csv") == digest_a
    assert check_dataset_pin(tmp_path / "b.csv") == digest_b
    text = (tmp_path / PINS_FILE).read_text()
    assert "repro-pin <dataset file>" in text
    entries = [line for line in text.splitlines() if not line.startswith("#")]
    assert entries == [f"a.csv: {digest_a}", f"b.csv: {digest_b}"]


def test_one_changed_byte_fails_the_pin_naming_both_hashes(small_csv: Path) -> None:
    pinned = pin_dataset(small_csv)
    data = bytearray(small_csv.read_bytes())
    data[-2] ^= 1  # the last label: 0 <-> 1
    small_csv.write_bytes(bytes(data))
    with pytest.raises(DatasetPinError) as info:
        check_dataset_pin(small_csv)
    message = str(info.value)
    assert pinned in message and sha256_file(small_csv) in message
    assert "data.csv" in message and "repro-pin" in message
    assert info.value.exit_code == EXIT_VERIFICATION_FAILED


def test_unpinned_dataset_is_a_dataset_error_telling_how_to_pin(tmp_path: Path, small_csv: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_bytes(b"x\n1\n")
    pin_dataset(other)
    with pytest.raises(DatasetError, match=r"not pinned.*pin it with") as info:
        check_dataset_pin(small_csv)
    assert not isinstance(info.value, DatasetPinError)
    assert info.value.exit_code == EXIT_USAGE


def test_missing_registry_is_a_dataset_error_telling_how_to_pin(small_csv: Path) -> None:
    with pytest.raises(DatasetError, match=f"no pin registry.*{PINS_FILE}.*pin it with"):
        check_dataset_pin(small_csv)


def test_missing_dataset_file_is_reported_by_pin_and_check(tmp_path: Path) -> None:
    for action in (pin_dataset, check_dataset_pin):
        with pytest.raises(DatasetError, match=r"gone\.csv: dataset file not found"):
            action(tmp_path / "gone.csv")


def test_malformed_registry_is_reported_and_not_overwritten(small_csv: Path) -> None:
    registry = small_csv.parent / PINS_FILE
    registry.write_text("data.csv: not-a-hash\n")
    with pytest.raises(DatasetError, match="64 lowercase hex digits"):
        pin_dataset(small_csv)
    assert registry.read_text() == "data.csv: not-a-hash\n"


# Command line


def _load_dataset(data: bytes, source: str, target: str) -> pd.DataFrame:
    """The demo's loader, imported when a test reads a dataset (it imports pandas)."""
    from training.data import load_dataset

    return load_dataset(data, source, target)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "synthetic_data.py"), *args],
        cwd=cwd,
        env=demo_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_cli_generate_pin_verify_round_trip(tmp_path: Path) -> None:
    generated = _cli("generate", "--output", "d.csv", "--seed", "5", "--rows", "300", cwd=tmp_path)
    assert generated.returncode == EXIT_OK, generated.stderr
    assert (tmp_path / "d.csv").read_bytes() == generate_csv(seed=5, n_rows=300)

    pinned = _cli("pin", "d.csv", cwd=tmp_path)
    assert pinned.returncode == EXIT_OK, pinned.stderr
    assert sha256_file(tmp_path / "d.csv") in pinned.stdout

    verified = _cli("verify", "d.csv", cwd=tmp_path)
    assert verified.returncode == EXIT_OK, verified.stderr

    with (tmp_path / "d.csv").open("ab") as handle:
        handle.write(b"IN,1,1.0,1,0,0,0.00,0\n")
    changed = _cli("verify", "d.csv", cwd=tmp_path)
    assert changed.returncode == EXIT_VERIFICATION_FAILED
    assert changed.stderr.startswith("error: d.csv: SHA-256 is ")
    assert len(changed.stderr.splitlines()) == 1
    assert "Traceback" not in changed.stderr


def test_cli_verify_of_a_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    result = _cli("verify", "nothing.csv", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert result.stderr == "error: nothing.csv: dataset file not found\n"


def test_cli_default_generate_writes_the_bundled_dataset(tmp_path: Path) -> None:
    result = _cli("generate", cwd=tmp_path)
    assert result.returncode == EXIT_OK, result.stderr
    assert sha256_file(tmp_path / "ml_datasource.csv") == sha256_file(BUNDLED)
    assert str(DATASET_SEED) in result.stdout


def test_cli_rejects_too_few_rows_as_a_usage_error(tmp_path: Path) -> None:
    result = _cli("generate", "--rows", "3", cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert f"expected {MIN_ROWS} to {MAX_ROWS} rows, got 3" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ml_datasource.csv").exists()
