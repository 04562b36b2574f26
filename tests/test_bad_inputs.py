"""The bad-input catalogue: every malformed input, through the real command line, gets one clear line.

One project is trained once for the module (one decision tree, two folds, a pinned
600-row slice of the bundled data).  Each case copies it, breaks one thing in the copy
and runs `python -m training --quiet`, `scripts/reproducibility_check.py` or (once)
`benchmarks/synthetic_data.py verify` there, as a user would.  Every case asserts the documented exit code (2 for usage, config and
dataset-input errors, 1 for verification failures), exactly one problem line on stderr
(`error: ...`, or the check's `FAILED ...`) holding a distinctive substring that names
the file and the key or column, no traceback anywhere, and that the artifacts the
copy already held are byte for byte as they were, with nothing half-written beside
them.  Two cases are not errors at all: a byte-order mark and CRLF line ends must load
and train to the same model.

The cases are independent processes in separate folders, so the module fixture runs the
selected ones at once in a small thread pool and each test reads its own outcome.
Three faults need processes in a given state when they strike (a training killed while
its workers run, a pytest session killed while its runs train, a run that stays silent),
so they are tests of their own at the end of the module, not cases.
A permission-denied file cannot be staged as root (root reads any file whatever its
mode), so `dataset-unreadable-mode-000` is skipped for root and `dataset-is-a-folder`
and `config-is-a-folder` stand in as unreadable inputs that fail for every user.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_project import replace_entry, set_entry
from small_project import write_small_project

from pytest_repro.lineage.output_names import LOCK_NAME
from pytest_repro.lineage.pins import PINS_FILE, pin_dataset

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CHECK_SCRIPT = ROOT / "scripts" / "reproducibility_check.py"
DATASET = "ml_datasource.csv"
# The trained outputs, lineage last.
ARTIFACTS = ("best_model.joblib", "threshold.txt", "metrics.json", "drift_baseline.json", "lineage.json")
# Written by every check run, passing or not; not artifacts of the training.
CHECK_REPORTS = {"reproducibility_report.json", "reproducibility_environment.json"}
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

TRAIN, CHECK, PINS, HOOK = "train", "check", "pins", "hook lineage"
EXPORT, VARY, HOOK_CONFIG, LOAD, PYTEST = "export", "vary", "hook config", "load_model", "pytest --repro"
# A service that loads the model as the README shows, its errors printed by the plugin's run_cli.
_LOAD_MODEL = (
    "from pytest_repro.cli.common import run_cli; from pytest_repro.lineage import load_model; "
    "raise SystemExit(run_cli(lambda: load_model('artifacts/best_model.joblib', 'artifacts/lineage.json') and 0))"
)
# A decimal integer longer than Python converts (4300 digits).
HUGE_INT = "9" * 5000
# Lines a command prints besides its one problem line: argparse's usage (which may wrap
# onto indented lines) and repro-vary's progress before a training it started failed.
NOTES = ("usage: ", " ", "repro-vary: training ", "repro-vary: the reference training failed")
PROBLEM_PREFIXES = ("error: ", "FAILED ", "ERROR: ", "repro-vary: ", "reference: ")
Setup = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One malformed input: how to break a copy of the project, and what the command must answer."""

    id: str
    setup: Setup  # breaks the copy at the given folder; returns the command's extra arguments
    exit_code: int
    says: str  # a substring of the one problem line: the file, the key or column, the problem
    tool: str = TRAIN
    needs_non_root: bool = False
    env: tuple[tuple[str, str], ...] = ()  # environment variables the command runs with

    @property
    def expensive(self) -> bool:
        """Cases that reach the data import scikit-learn first; started first so the pool ends on cheap ones."""
        return self.id.startswith(("dataset-", "loads-"))


# --- ways to break a copy of the project -------------------------------------------


def _nothing(*args: str) -> Setup:
    def setup(project: Path) -> list[str]:
        return list(args)

    return setup


def _config_text(text: str | bytes, *args: str) -> Setup:
    def setup(project: Path) -> list[str]:
        data = text.encode() if isinstance(text, str) else text
        (project / "config.yaml").write_bytes(data)
        return list(args)

    return setup


def _config(dotted: str, value: Any = ..., *, delete: bool = False) -> Setup:
    """Set (or delete) one dotted key of the project's valid config, leaving every other key valid."""

    def setup(project: Path) -> list[str]:
        path = project / "config.yaml"
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        *parents, leaf = dotted.split(".")
        node = config
        for part in parents:
            node = node[part]
        if delete:
            del node[leaf]
        else:
            node[leaf] = value
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return []

    return setup


def _config_keys(values: dict[str, Any]) -> Setup:
    """Set several dotted keys of the valid config at once (an output folder and a name in it)."""

    def setup(project: Path) -> list[str]:
        args: list[str] = []
        for dotted, value in values.items():
            args += _config(dotted, value)(project)
        return args

    return setup


def _rows(edit: Callable[[list[list[str]]], list[list[str]]]) -> Setup:
    """Rewrite the dataset's rows (header first) and re-pin it, so only the content is wrong."""

    def setup(project: Path) -> list[str]:
        path = project / DATASET
        rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
        path.write_text("\n".join(",".join(row) for row in edit(rows)) + "\n", encoding="utf-8")
        pin_dataset(path)
        return []

    return setup


def _dataset_bytes(transform: Callable[[bytes], bytes]) -> Setup:
    def setup(project: Path) -> list[str]:
        path = project / DATASET
        path.write_bytes(transform(path.read_bytes()))
        pin_dataset(path)
        return []

    return setup


def _column(rows: list[list[str]], name: str) -> int:
    return rows[0].index(name)


def _set_cell(name: str, row: int, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[row][_column(rows, name)] = value
        return rows

    return edit


def _set_column(name: str, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        column = _column(rows, name)
        for row in rows[1:]:
            row[column] = value
        return rows

    return edit


def _drop_column(name: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        column = _column(rows, name)
        return [row[:column] + row[column + 1 :] for row in rows]

    return edit


def _repeat_column(name: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        column = _column(rows, name)
        return [[*row, row[column]] for row in rows]

    return edit


def _dataset_is_folder(project: Path) -> list[str]:
    (project / DATASET).unlink()
    (project / DATASET).mkdir()
    return []


def _dataset_missing(project: Path) -> list[str]:
    (project / DATASET).unlink()
    return []


def _dataset_mode_000(project: Path) -> list[str]:
    (project / DATASET).chmod(0)
    return []


def _dataset_changed_after_pinning(project: Path) -> list[str]:
    with (project / DATASET).open("a", encoding="utf-8") as handle:
        handle.write("US,1,1.0,1,0,0,0.00,0\n")
    return []


def _dataset_unpinned(project: Path) -> list[str]:
    (project / PINS_FILE).write_text(f"other.csv: '{'0' * 64}'\n", encoding="utf-8")
    return []


def _fifo(relative: str, *args: str) -> Setup:
    """Put a FIFO (no writer: reading it would block forever) where a file is expected."""

    def setup(project: Path) -> list[str]:
        path = project / relative
        path.unlink(missing_ok=True)
        os.mkfifo(path)
        return list(args)

    return setup


def _pytest_project(*args: str) -> Setup:
    """Make the copy a project that `pytest --repro` trains (its entry point in pyproject.toml)."""

    def setup(project: Path) -> list[str]:
        (project / "pyproject.toml").write_text(
            '[tool.pytest.ini_options]\nrepro_train = "training:train_for_repro"\n', encoding="utf-8"
        )
        return _fifo("fifo.yaml")(project) + list(args)

    return setup


# A user's training that reads its config the plain way: a FIFO in its place would block it forever.
_NAIVE_TRAINING = """\
from pathlib import Path


def train(config_path, output_dir, seed=None):
    Path(config_path).read_text()
    (Path(output_dir) / "model.bin").write_bytes(b"weights")
    return {"artifacts": {"model": "model.bin"}, "folds": None, "metrics": {}}
"""


def _naive_pytest_project(project: Path) -> list[str]:
    """A project whose training reads the default config.yaml (named nowhere), which is now a FIFO."""
    (project / "naive_training.py").write_text(_NAIVE_TRAINING, encoding="utf-8")
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_train = "naive_training:train"\n', encoding="utf-8"
    )
    return _fifo("config.yaml")(project)


def _link_loop(name: str, dotted: str) -> Setup:
    """Make `name` a symbolic link to itself and point the config's `dotted` key at it."""

    def setup(project: Path) -> list[str]:
        (project / name).symlink_to(name)
        return _config(dotted, name)(project)

    return setup


def _model_dir_links_outside(project: Path) -> list[str]:
    """Move the artifacts out of the project and leave a symbolic link to them in their place."""
    outside = project.parent / f"{project.name}-artifacts-outside"
    shutil.move(project / "artifacts", outside)
    (project / "artifacts").symlink_to(outside)
    return []


def _lock_is_a_folder(project: Path) -> list[str]:
    lock = project / "artifacts" / ".training.lock"
    lock.unlink(missing_ok=True)  # the training that made the copy left its (released) lock file
    lock.mkdir()
    return []


def _folder_named(name: str, *args: str) -> Setup:
    def setup(project: Path) -> list[str]:
        (project / name).mkdir()
        return list(args)

    return setup


def _journal(text: str) -> Setup:
    def setup(project: Path) -> list[str]:
        (project / "artifacts" / ".commit.json").write_text(text, encoding="utf-8")
        return []

    return setup


def _replace_in(relative: str, old: str, new: str, *args: str) -> Setup:
    """Replace the first `old` in a file of the copy by `new` (a number no parser should trust)."""

    def setup(project: Path) -> list[str]:
        path = project / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return list(args)

    return setup


def _write_file(relative: str, text: str, *args: str) -> Setup:
    def setup(project: Path) -> list[str]:
        (project / relative).write_text(text, encoding="utf-8")
        return list(args)

    return setup


# A training (for repro-vary) that breaks the contract in what it returns.
_ODD_TRAINING = """\
from pathlib import Path


def _model(output_dir):
    path = Path(output_dir) / "model.bin"
    path.write_bytes(b"weights")
    return {"model": str(path)}


def fold_holds_text(config_path, output_dir, seed=None):
    return {"artifacts": _model(output_dir), "folds": [[1, "x"]], "metrics": {"auc": 0.5}}


def metric_is_a_set(config_path, output_dir, seed=None):
    return {"artifacts": _model(output_dir), "folds": [[1, 2]], "metrics": {"auc": {1, 2}}}
"""


def _journal_renames(renames: Any) -> Setup:
    """Write a crafted commit journal holding `renames`, as an attacker with write access could."""
    return _journal(json.dumps({"renames": renames}))


def _lineage(edit: Callable[[dict[str, Any]], Any]) -> Setup:
    """Rewrite the lineage through `edit` (which may return a replacement document)."""

    def setup(project: Path) -> list[str]:
        path = project / "artifacts" / "lineage.json"
        lineage = json.loads(path.read_text(encoding="utf-8"))
        replaced = edit(lineage)
        path.write_text(json.dumps(lineage if replaced is None else replaced, indent=2), encoding="utf-8")
        return []

    return setup


def _lineage_bytes(data: bytes) -> Setup:
    def setup(project: Path) -> list[str]:
        (project / "artifacts" / "lineage.json").write_bytes(data)
        return []

    return setup


def _artifact(name: str, action: str) -> Setup:
    def setup(project: Path) -> list[str]:
        path = project / "artifacts" / name
        if action == "delete":
            path.unlink()
        elif action == "flip-byte":
            data = bytearray(path.read_bytes())
            data[0] ^= 0x01
            path.write_bytes(bytes(data))
        elif action == "folder":
            path.unlink()
            path.mkdir()
        elif action == "symlink-out":
            outside = project.parent / f"{project.name}-outside.txt"
            outside.write_bytes(path.read_bytes())
            path.unlink()
            path.symlink_to(outside)
        return []

    return setup


def _envelope(text: str) -> Setup:
    def setup(project: Path) -> list[str]:
        (project / "artifacts" / "lineage.json.dsse.json").write_text(text, encoding="utf-8")
        return []

    return setup


def _put_entry(name: str, field: str | None, value: Any) -> Callable[[dict[str, Any]], None]:
    """Change entry `name` (or one of its fields) wherever the manifest records it: section and mirror."""

    def edit(lineage: dict[str, Any]) -> None:
        if field is None:
            replace_entry(lineage, name, value)
        else:
            set_entry(lineage, name, **{field: value})

    return edit


def _drop_from_section(name: str) -> Callable[[dict[str, Any]], None]:
    """Remove an output from its section, leaving its top-level mirror behind."""

    def edit(lineage: dict[str, Any]) -> None:
        del lineage["outputs"][name]

    return edit


def _put(dotted: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(lineage: dict[str, Any]) -> None:
        *parents, leaf = dotted.split(".")
        node = lineage
        for part in parents:
            node = node[part]
        node[leaf] = value

    return edit


_ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
_SVM = {"C": 1.0, "kernel": "rbf", "gamma": "scale"}

CASES: list[Case] = [
    # --- usage: the command line itself --------------------------------------------
    Case("usage-seed-negative", _nothing("--seed", "-1"), 2, "(with overrides): seed: got -1 (integer)"),
    Case("usage-seed-not-a-number", _nothing("--seed", "abc"), 2, "--seed: expected an integer, got 'abc'"),
    Case("usage-seed-above-2**32-1", _nothing("--seed", str(2**32)), 2, "seed: got 4294967296 (integer)"),
    Case("usage-unknown-option", _nothing("--epochs", "3"), 2, "unrecognized arguments: --epochs 3"),
    Case("usage-option-without-value", _nothing("--config"), 2, "argument --config: expected one argument"),
    Case("usage-config-not-found", _nothing("--config", "nope.yaml"), 2, "nope.yaml: config file not found"),
    Case("config-is-a-folder", _folder_named("conf.d", "--config", "conf.d"), 2, "conf.d: is a folder"),
    Case(
        "usage-output-folder-is-a-file",
        _nothing("--output-dir", "artifacts/threshold.txt"),
        2,
        "artifacts/threshold.txt: output folder is a file",
    ),
    Case(
        "usage-output-folder-under-a-file",
        _nothing("--output-dir", "artifacts/threshold.txt/run2"),
        2,
        "threshold.txt/run2: a parent of the output folder is a file",
    ),
    Case(
        "usage-output-folder-name-too-long",
        _nothing("--output-dir", "x" * 300),
        2,
        "cannot use as the output folder (File name too long)",
    ),
    Case(
        "usage-check-unknown-option", _nothing("--lineage-file", "x"), 2, "unrecognized arguments", tool=CHECK
    ),
    # --- the config file: YAML -------------------------------------------------------
    Case(
        "yaml-unclosed-bracket",
        _config_text("seed: [1, 2\n"),
        2,
        "config.yaml: YAML syntax error at line 2, column 1: expected ',' or ']'",
    ),
    Case(
        "yaml-tab-indentation",
        _config_text("seed: 42\ndata:\n\tpath: ml_datasource.csv\n"),
        2,
        "config.yaml: YAML syntax error at line 3, column 1: found character '\\t'",
    ),
    Case(
        "yaml-duplicate-key",
        _config_text("seed: 1\nseed: 2\n"),
        2,
        "config.yaml: seed: duplicate key 'seed' at line 2, column 1",
    ),
    Case("yaml-alias-bomb", _config_text(_ALIAS_BOMB), 2, "more than 40 aliases (a YAML alias bomb?)"),
    Case(
        "yaml-top-level-is-a-list",
        _config_text("- seed\n- data\n"),
        2,
        "config.yaml: top level must be a mapping of sections, got a list",
    ),
    Case(
        "yaml-empty-file",
        _config_text(""),
        2,
        "config.yaml: top level must be a mapping of sections, got an empty file",
    ),
    Case("yaml-not-utf8", _config_text(b"seed: 42 # \xff\n"), 2, "config.yaml: not UTF-8 text (byte 11)"),
    # --- the config file: schema, one broken key each --------------------------------
    Case("config-seed-is-a-boolean", _config("seed", True), 2, "config.yaml: seed: got True (boolean)"),
    Case(
        "config-test-size-is-a-list",
        _config("data.test_size", [0.2]),
        2,
        "config.yaml: data.test_size: got [0.2] (list); expected a number in (0, 1)",
    ),
    Case(
        "config-test-size-is-one",
        _config("data.test_size", 1.0),
        2,
        "config.yaml: data.test_size: got 1.0 (number); expected a number in (0, 1)",
    ),
    Case(
        "config-target-missing",
        _config("data.target", delete=True),
        2,
        "config.yaml: data.target: missing required key",
    ),
    Case(
        "config-epsilon-is-nan",
        _config("features.epsilon", float("nan")),
        2,
        "config.yaml: features.epsilon: got nan (number)",
    ),
    Case(
        "config-weight-negative",
        _config("features.engagement.minutes_watched_weight", -0.5),
        2,
        "features.engagement.minutes_watched_weight: got -0.5 (number); expected a number in [0, 1000000]",
    ),
    Case(
        "config-preprocessing-not-a-section",
        _config("preprocessing", "median"),
        2,
        "config.yaml: preprocessing: got 'median'; expected a mapping of keys",
    ),
    Case(
        "config-imputer-unknown",
        _config("preprocessing.numeric_imputer", "avg"),
        2,
        "preprocessing.numeric_imputer: got 'avg' (string); expected one of 'mean', 'median'",
    ),
    Case(
        "config-n-estimators-is-a-string",
        _config("models.random_forest", {"n_estimators": "400", "min_samples_leaf": 2}),
        2,
        "models.random_forest.n_estimators: got '400' (string); expected an integer in [1, 10000]",
    ),
    Case(
        "config-gamma-negative",
        _config("models.svm", {**_SVM, "gamma": -1}),
        2,
        "models.svm.gamma: got -1 (integer); expected 'scale' or 'auto' or a number",
    ),
    Case(
        "config-kernel-unknown",
        _config("models.svm", {**_SVM, "kernel": "cubic"}),
        2,
        "models.svm.kernel: got 'cubic' (string); expected one of 'linear', 'poly', 'rbf', 'sigmoid'",
    ),
    Case(
        "config-max-depth-zero",
        _config("models.decision_tree.max_depth", 0),
        2,
        "models.decision_tree.max_depth: got 0 (integer); expected an integer in [1, 10000] or null",
    ),
    Case(
        "config-n-neighbors-fractional",
        _config("models.knn", {"n_neighbors": 7.5}),
        2,
        "models.knn.n_neighbors: got 7.5 (number); expected an integer",
    ),
    Case(
        "config-unknown-key-suggests-nearest",
        _config("models.decision_tree.max_dept", 3),
        2,
        "models.decision_tree.max_dept: unknown key (did you mean 'max_depth'?)",
    ),
    Case("config-no-models", _config("models", {}), 2, "config.yaml: models: at least one model is required"),
    Case("config-cv-section-missing", _config("cv", delete=True), 2, "config.yaml: cv: missing required key"),
    Case(
        "config-n-splits-null",
        _config("cv.n_splits", None),
        2,
        "config.yaml: cv.n_splits: is required, got null; expected an integer in [2, 100]",
    ),
    Case(
        "config-target-precision-zero",
        _config("business.target_precision", 0),
        2,
        "business.target_precision: got 0 (integer); expected a number in (0, 1]",
    ),
    Case(
        "config-model-file-with-a-folder",
        _config("artifacts.model_file", "../model.joblib"),
        2,
        "artifacts.model_file: got '../model.joblib' (string); expected a plain file name",
    ),
    Case(
        "config-model-dir-escapes",
        _config("artifacts.model_dir", "../elsewhere"),
        2,
        "artifacts.model_dir: got '../elsewhere' (string); expected a relative folder without '..'",
    ),
    # --- artifact names, refused as a set before any data is read ----------------------
    Case(
        "names-metrics-file-overwrites-dataset",
        _config_keys({"artifacts.model_dir": ".", "artifacts.metrics_file": DATASET}),
        2,
        f"config.yaml: artifacts.metrics_file: '{DATASET}' would overwrite the run's input 'dataset'",
    ),
    Case(
        "names-metrics-file-overwrites-config",
        _config_keys({"artifacts.model_dir": ".", "artifacts.metrics_file": "config.yaml"}),
        2,
        "config.yaml: artifacts.metrics_file: 'config.yaml' would overwrite the run's input 'config'",
    ),
    Case(
        "names-metrics-file-overwrites-pins",
        _config_keys({"artifacts.model_dir": ".", "artifacts.metrics_file": PINS_FILE}),
        2,
        f"config.yaml: artifacts.metrics_file: '{PINS_FILE}' would overwrite the run's input 'pins'",
    ),
    Case(
        "names-metrics-file-is-the-lineage",
        _config("artifacts.metrics_file", "lineage.json"),
        2,
        "config.yaml: artifacts.lineage_file: 'lineage.json' is also the name of output 'metrics'",
    ),
    Case(
        "names-threshold-file-is-the-model-file",
        _config("artifacts.threshold_file", "best_model.joblib"),
        2,
        "config.yaml: artifacts.threshold_file: 'best_model.joblib' is also the name of output 'model'",
    ),
    Case(
        "names-metrics-file-is-the-envelope",
        _config("artifacts.metrics_file", "lineage.json.dsse.json"),
        2,
        "artifacts.metrics_file: 'lineage.json.dsse.json' is also the name of the lineage's signature envelope",
    ),
    Case(
        "names-model-file-is-the-journal",
        _config("artifacts.model_file", ".commit.json"),
        2,
        "config.yaml: artifacts.model_file: '.commit.json' is reserved",
    ),
    Case(
        "names-lineage-file-is-the-journal",
        _config("artifacts.lineage_file", ".commit.json"),
        2,
        "config.yaml: artifacts.lineage_file: '.commit.json' is reserved",
    ),
    Case(
        "names-metrics-file-is-the-check-report",
        _config("artifacts.metrics_file", "reproducibility_report.json"),
        2,
        "config.yaml: artifacts.metrics_file: 'reproducibility_report.json' is reserved",
    ),
    Case(
        "names-model-file-is-dot-dot",
        _config("artifacts.model_file", ".."),
        2,
        "config.yaml: artifacts.model_file: '..' is not a plain file name",
    ),
    Case(
        "names-model-file-is-dot",
        _config("artifacts.model_file", "."),
        2,
        "config.yaml: artifacts.model_file: '.' is not a plain file name",
    ),
    # --- the dataset ---------------------------------------------------------------------
    Case(
        "dataset-without-a-header-row",
        _dataset_bytes(lambda data: data.split(b"\n", 1)[1]),
        2,
        f"{DATASET}: no header line; the first line holds values (",
    ),
    Case(
        "dataset-empty-file",
        _dataset_bytes(lambda _: b""),
        2,
        f"{DATASET}: empty file; expected a header line",
    ),
    Case("dataset-missing", _dataset_missing, 2, f"{DATASET}: dataset file not found"),
    Case("dataset-is-a-folder", _dataset_is_folder, 2, f"{DATASET}: is a folder, expected a dataset file"),
    Case(
        "dataset-unreadable-mode-000",
        _dataset_mode_000,
        2,
        f"{DATASET}: permission denied reading the dataset file",
        needs_non_root=True,
    ),
    Case(
        "dataset-no-target-column",
        _rows(_drop_column("purchased")),
        2,
        f"{DATASET}: target column 'purchased' (data.target) is missing",
    ),
    Case(
        "dataset-target-not-binary",
        _rows(_set_cell("purchased", 3, "2")),
        2,
        f"{DATASET}: target column 'purchased' must be 0 or 1; row 3 holds '2'",
    ),
    Case(
        "dataset-target-one-class",
        _rows(_set_column("purchased", "0")),
        2,
        f"{DATASET}: target column 'purchased' has only class 0 in 600 rows",
    ),
    Case(
        "dataset-column-all-empty",
        _rows(_set_column("minutes_watched", "")),
        2,
        f"{DATASET}: column 'minutes_watched' is empty in every row",
    ),
    Case(
        "dataset-text-in-numeric-column",
        _rows(_set_cell("days_on_platform", 5, "twelve")),
        2,
        f"{DATASET}: column 'days_on_platform' holds text at row 5: 'twelve'",
    ),
    Case(
        "dataset-duplicate-column-names",
        _rows(_repeat_column("student_country")),
        2,
        f"{DATASET}: duplicate column names in the header: 'student_country' at columns 1, 9",
    ),
    Case(
        "dataset-changed-after-pinning",
        _dataset_changed_after_pinning,
        1,
        f"{DATASET}: SHA-256 is ",
    ),
    Case(
        "dataset-value-overflows-a-feature",
        _rows(_set_cell("minutes_watched", 4, "1e308")),
        2,
        f"{DATASET}: column 'minutes_watched' holds '1e308' at row 4; expected a count or duration in [0, 1e+12]",
    ),
    Case(
        "dataset-negative-days-on-platform",
        _rows(_set_cell("days_on_platform", 2, "-5")),
        2,
        f"{DATASET}: column 'days_on_platform' holds '-5' at row 2; expected a count or duration in [0, 1e+12]",
    ),
    Case("dataset-unpinned", _dataset_unpinned, 2, f"{DATASET}: not pinned in "),
    Case(
        "dataset-name-too-long",
        _nothing("verify", "x" * 300 + ".csv"),
        2,
        ".csv: cannot read the dataset file (File name too long)",
        tool=PINS,
    ),
    Case(
        "dataset-more-folds-than-buyers",
        _config("cv.n_splits", 60),
        2,
        f"{DATASET}: cv.n_splits is 60 but the training split holds",
    ),
    Case("loads-byte-order-mark", _dataset_bytes(lambda data: b"\xef\xbb\xbf" + data), 0, ""),
    Case("loads-crlf-line-ends", _dataset_bytes(lambda data: data.replace(b"\n", b"\r\n")), 0, ""),
    # --- the output folder's commit journal ------------------------------------------
    Case(
        "train-commit-journal-unreadable",
        _journal("{not json"),
        2,
        ".commit.json: unreadable commit journal; remove it and train again",
    ),
    Case(
        "train-commit-journal-pair-of-one",
        _journal_renames([["a"]]),
        2,
        '.commit.json: commit journal: renames[0]: expected [staged name, final name], got ["a"]',
    ),
    Case(
        "train-commit-journal-names-are-numbers",
        _journal_renames([[1, 2]]),
        2,
        ".commit.json: commit journal: renames[0]: expected [staged name, final name], got [1, 2]",
    ),
    Case(
        "train-commit-journal-renames-is-a-string",
        _journal_renames("ab"),
        2,
        ".commit.json: commit journal: renames: expected a non-empty list of [staged name, final name] pairs",
    ),
    Case(
        "train-commit-journal-moves-the-model-over-the-lineage",
        _journal_renames([["best_model.joblib", "lineage.json"]]),
        2,
        '.commit.json: commit journal: renames[0]: "best_model.joblib" is not a staging file of "lineage.json"',
    ),
    Case(
        "train-commit-journal-escapes-the-folder",
        _journal_renames([["../config.yaml.staged", "../config.yaml"]]),
        2,
        '.commit.json: commit journal: renames[0]: final name "../config.yaml" is not a plain file name',
    ),
    # --- values no parser should trust, and unexpected failures --------------------------
    Case(
        "huge-integer-in-config",
        _replace_in("config.yaml", "seed: 42", f"seed: {HUGE_INT}"),
        2,
        "config.yaml: seed: an integer of 5000 digits (at most 4300 are read) at line 1, column 7",
    ),
    Case(
        "huge-integer-in-pins",
        _write_file(PINS_FILE, f"{DATASET}: {HUGE_INT}\n"),
        2,
        f"{PINS_FILE}: {DATASET}: an integer of 5000 digits (at most 4300 are read) at line 1, column 20",
    ),
    Case(
        "huge-integer-in-lineage",
        _replace_in("artifacts/lineage.json", '"seed": 42', f'"seed": {HUGE_INT}'),
        1,
        "artifacts/lineage.json: malformed lineage JSON: an integer of 5000 digits (at most 4300 are read)",
        tool=CHECK,
    ),
    Case(
        "huge-integer-in-envelope",
        _write_file("artifacts/lineage.json.dsse.json", f'{{"payload": {HUGE_INT}}}'),
        1,
        "artifacts/lineage.json.dsse.json: malformed envelope JSON: an integer of 5000 digits",
        tool=CHECK,
    ),
    Case(
        "yaml-sequence-as-a-key",
        _replace_in("config.yaml", "seed: 42", "seed: 42\n? [a, b]\n: 1"),
        2,
        "config.yaml: YAML syntax error at line 2, column 3: mapping keys must be plain values",
    ),
    Case(
        "signing-key-not-utf8",
        _nothing(),
        2,
        "environment: REPRO_SIGNING_KEY: not UTF-8 text (byte 0)",
        env=(("REPRO_SIGNING_KEY", os.fsdecode(b"\xff\xfekey")),),
    ),
    Case(
        "export-output-into-a-missing-folder",
        _nothing("sha256sums", "--output", "missing/SHA256SUMS"),
        2,
        "missing/SHA256SUMS: cannot write (folder missing does not exist); nothing was written",
        tool=EXPORT,
    ),
    Case(
        "export-output-over-the-lineage",
        _nothing("intoto", "--output", "artifacts/lineage.json"),
        2,
        "error: --output: artifacts/lineage.json is the lineage; write the export to another file",
        tool=EXPORT,
    ),
    Case(
        "export-output-over-the-model",
        _nothing("sha256sums", "--output", "artifacts/best_model.joblib"),
        2,
        "error: --output: artifacts/best_model.joblib is lineage entry 'model'; write the export to another file",
        tool=EXPORT,
    ),
    Case(
        "generate-ten-trillion-rows",
        _nothing("generate", "--rows", "10000000000000", "--output", "big.csv"),
        2,
        "argument --rows: expected 50 to 10000000 rows, got 10000000000000",
        tool=PINS,
    ),
    Case(
        "vary-config-bad-yaml",
        _config_text("seed: [1, 2\n", "--entry", "training:train_for_repro"),
        2,
        "error: config.yaml: YAML syntax error at line 2, column 1",
        tool=VARY,
    ),
    Case(
        "vary-json-into-a-missing-folder",
        _nothing("--entry", "training:train_for_repro", "--json", "missing/report.json"),
        2,
        "repro-vary: --json: folder missing does not exist",
        tool=VARY,
    ),
    Case(
        "vary-training-returns-a-fold-holding-text",
        _write_file(
            "odd_training.py", _ODD_TRAINING, "--entry", "odd_training:fold_holds_text", "--vary", "hashseed"
        ),
        2,
        "reference: 'folds'[0]: row numbers must be integers, got 'x' (str)",
        tool=VARY,
    ),
    Case(
        "vary-training-returns-a-set-in-its-metrics",
        _write_file(
            "odd_training.py", _ODD_TRAINING, "--entry", "odd_training:metric_is_a_set", "--vary", "hashseed"
        ),
        2,
        "reference: 'metrics' must hold JSON-like values: {1, 2} (set) is not a JSON value",
        tool=VARY,
    ),
    Case(
        "dataset-outside-the-project",
        _config("data.path", "../elsewhere.csv"),
        2,
        "config.yaml: data.path: '../elsewhere.csv' resolves outside the config's folder",
    ),
    Case(
        "model-dir-links-outside-the-project",
        _model_dir_links_outside,
        2,
        "config.yaml: artifacts.model_dir: 'artifacts' resolves outside the config's folder",
    ),
    Case(
        "output-dir-outside-the-project",
        _nothing("--output-dir", "../elsewhere"),
        2,
        "<command line>: --output-dir: '../elsewhere' resolves outside the config's folder",
    ),
    Case(
        "dataset-path-is-a-symlink-loop",
        _link_loop("loop.csv", "data.path"),
        2,
        "config.yaml: data.path: 'loop.csv' cannot be resolved: a symbolic link loop",
    ),
    Case(
        "model-dir-is-a-symlink-loop",
        _link_loop("loop", "artifacts.model_dir"),
        2,
        "config.yaml: artifacts.model_dir: 'loop' cannot be resolved: a symbolic link loop",
    ),
    Case(
        "dataset-path-holds-a-nul-byte",
        _config("data.path", "ml\x00datasource.csv"),
        2,
        "config.yaml: data.path: 'ml\\x00datasource.csv' cannot be resolved: it holds a NUL byte",
    ),
    Case(
        "lock-file-is-a-folder",
        _lock_is_a_folder,
        2,
        "artifacts/.training.lock: cannot take the output lock (Is a directory)",
    ),
    # --- FIFOs and devices where a file belongs: refused at once, never read ----------
    Case(
        "dataset-is-a-fifo",
        _fifo(DATASET),
        2,
        f"{DATASET}: cannot read the dataset file (not a regular file: a FIFO)",
    ),
    Case(
        "dataset-is-dev-zero",
        _config("data.path", "/dev/zero"),
        2,
        "config.yaml: data.path: '/dev/zero' resolves outside the config's folder; keep it inside the project",
    ),
    Case(
        "datasets-verify-dev-zero",
        _nothing("verify", "/dev/zero"),
        2,
        "error: /dev/zero: cannot read the dataset file (not a regular file: a character device)",
        tool=PINS,
    ),
    Case(
        "lineage-is-a-fifo",
        _fifo("artifacts/lineage.json"),
        1,
        "artifacts/lineage.json: cannot read the lineage (not a regular file: a FIFO)",
        tool=CHECK,
    ),
    Case(
        "lineage-entry-is-a-fifo",
        _fifo("artifacts/threshold.txt"),
        1,
        "FAILED threshold: artifacts/threshold.txt: cannot read (not a regular file: a FIFO)",
        tool=CHECK,
    ),
    Case(
        "envelope-is-a-fifo",
        _fifo("artifacts/lineage.json.dsse.json"),
        1,
        "artifacts/lineage.json.dsse.json: cannot read the envelope (not a regular file: a FIFO)",
        tool=CHECK,
    ),
    Case(
        "hook-config-is-a-fifo",
        _fifo("fifo.yaml", "fifo.yaml"),
        2,
        "error: fifo.yaml: cannot read config file (not a regular file: a FIFO)",
        tool=HOOK_CONFIG,
    ),
    Case(
        "load-model-is-a-fifo",
        _fifo("artifacts/best_model.joblib"),
        1,
        "error: artifacts/best_model.joblib: cannot read the model (not a regular file: a FIFO)",
        tool=LOAD,
    ),
    Case(
        "pytest-repro-config-is-a-fifo",
        _pytest_project("--repro-config", "fifo.yaml"),
        4,
        "fifo.yaml is not a regular file: a FIFO (set repro_config or --repro-config to the config",
        tool=PYTEST,
    ),
    Case(
        "pytest-repro-default-config-is-a-fifo",
        _naive_pytest_project,
        4,
        "config.yaml is not a regular file: a FIFO (set repro_config or --repro-config to the config",
        tool=PYTEST,
    ),
    # --- the lineage, through the check script -----------------------------------------
    Case(
        "lineage-malformed-json",
        _lineage_bytes(b'{"seed": 42,'),
        1,
        "artifacts/lineage.json: malformed lineage JSON at line 1",
        tool=CHECK,
    ),
    Case(
        "lineage-nested-too-deeply",
        _lineage_bytes(b"[" * 100_000 + b"]" * 100_000),
        1,
        "artifacts/lineage.json: malformed lineage JSON: nested too deeply",
        tool=CHECK,
    ),
    Case(
        "lineage-top-level-is-a-list",
        _lineage(lambda lineage: [lineage]),
        1,
        "artifacts/lineage.json: top level must be a JSON object, got list",
        tool=CHECK,
    ),
    Case(
        "lineage-mirror-without-its-entry",
        _lineage(_drop_from_section("model")),
        1,
        "artifacts/lineage.json: model: a top-level entry that is neither an input nor an output",
        tool=CHECK,
    ),
    Case(
        "lineage-entry-is-a-string",
        _lineage(_put_entry("threshold", None, "artifacts/threshold.txt")),
        1,
        "artifacts/lineage.json: outputs.threshold: expected an object with path and sha256",
        tool=CHECK,
    ),
    Case(
        "lineage-sha256-is-a-number",
        _lineage(_put_entry("model", "sha256", 12)),
        1,
        "artifacts/lineage.json: outputs.model.sha256: expected a non-empty string",
        tool=CHECK,
    ),
    Case(
        "lineage-sha256-not-hex",
        _lineage(_put_entry("config", "sha256", "Z" * 64)),
        1,
        "artifacts/lineage.json: inputs.config.sha256: not a lowercase hex SHA-256",
        tool=CHECK,
    ),
    Case(
        "lineage-root-is-a-number",
        _lineage(_put("root", 5)),
        1,
        "artifacts/lineage.json: root: expected a relative path string",
        tool=CHECK,
    ),
    Case(
        "lineage-root-escapes-project",
        _lineage(_put("root", "../../..")),
        1,
        "artifacts/lineage.json: root: '../../..' resolves outside the project root",
        tool=CHECK,
    ),
    Case(
        "lineage-root-holds-nul",
        _lineage(_put("root", "..\x00")),
        1,
        "artifacts/lineage.json: root: contains a NUL byte",
        tool=CHECK,
    ),
    Case(
        "lineage-path-escapes-root",
        _lineage(_put_entry("dataset", "path", "../../etc/passwd")),
        1,
        "artifacts/lineage.json: dataset.path: path escapes outside the project root",
        tool=CHECK,
    ),
    Case(
        "lineage-path-absolute",
        _lineage(_put_entry("dataset", "path", "/etc/passwd")),
        1,
        "artifacts/lineage.json: dataset.path: absolute paths are not allowed",
        tool=CHECK,
    ),
    Case(
        "lineage-artifact-symlinks-outside",
        _artifact("threshold.txt", "symlink-out"),
        1,
        "artifacts/lineage.json: threshold.path: symbolic link points outside the project root",
        tool=CHECK,
    ),
    Case(
        "lineage-names-a-missing-file",
        _artifact("threshold.txt", "delete"),
        1,
        "FAILED threshold: artifacts/threshold.txt: file not found",
        tool=CHECK,
    ),
    Case(
        "lineage-names-a-folder",
        _artifact("metrics.json", "folder"),
        1,
        "FAILED metrics: artifacts/metrics.json: is a folder, not a file",
        tool=CHECK,
    ),
    Case(
        "lineage-artifact-tampered",
        _artifact("best_model.joblib", "flip-byte"),
        1,
        "FAILED model: artifacts/best_model.joblib: SHA-256 is ",
        tool=CHECK,
    ),
    Case(
        "lineage-hash-tampered",
        _lineage(_put_entry("threshold", "sha256", "0" * 64)),
        1,
        "but the lineage records " + "0" * 64,
        tool=CHECK,
    ),
    Case(
        "lineage-missing",
        _artifact("lineage.json", "delete"),
        1,
        "Missing artifacts/lineage.json. Run training first.",
        tool=CHECK,
    ),
    Case(
        "lineage-is-a-folder",
        _artifact("lineage.json", "folder"),
        1,
        "artifacts/lineage.json: is a folder, expected a lineage JSON file",
        tool=CHECK,
    ),
    Case(
        "lineage-envelope-nested-too-deeply",
        _envelope("[" * 100_000 + "]" * 100_000),
        1,
        "artifacts/lineage.json.dsse.json: malformed envelope JSON",
        tool=CHECK,
    ),
    Case(
        "check-commit-journal-unreadable",
        _journal("{not json"),
        1,
        ".commit.json: unreadable commit journal",
        tool=CHECK,
    ),
    Case(
        "check-commit-journal-moves-the-model-over-the-lineage",
        _journal_renames([["best_model.joblib", "lineage.json"]]),
        1,
        '.commit.json: commit journal: renames[0]: "best_model.joblib" is not a staging file of "lineage.json"',
        tool=CHECK,
    ),
    Case(
        "check-commit-journal-pair-of-one",
        _journal_renames([["a"]]),
        1,
        '.commit.json: commit journal: renames[0]: expected [staged name, final name], got ["a"]',
        tool=CHECK,
    ),
    Case(
        "check-commit-journal-pending-renames-nothing",
        _journal_renames([[".best_model.joblib.x1.staged", "best_model.joblib"]]),
        1,
        "artifacts/.commit.json: an interrupted commit is pending (best_model.joblib); the check renames nothing",
        tool=CHECK,
    ),
    Case(
        "hook-commit-journal-moves-the-model-over-the-lineage",
        _journal_renames([["best_model.joblib", "lineage.json"]]),
        1,
        '.commit.json: commit journal: renames[0]: "best_model.joblib" is not a staging file of "lineage.json"',
        tool=HOOK,
    ),
    Case(
        "hook-commit-journal-names-are-numbers",
        _journal_renames([[1, 2]]),
        1,
        ".commit.json: commit journal: renames[0]: expected [staged name, final name], got [1, 2]",
        tool=HOOK,
    ),
]


# --- the trained project, and running the cases ------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRO_")}
    return {**env, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}


def _command(tool: str, args: list[str]) -> list[str]:
    if tool == TRAIN:
        return [sys.executable, "-m", "training", "--quiet", *args]
    if tool == PINS:
        return [sys.executable, str(ROOT / "benchmarks" / "synthetic_data.py"), *args]
    if tool == EXPORT:
        return [sys.executable, "-m", "pytest_repro.cli.repro_export", *args]
    if tool == VARY:
        return [
            sys.executable,
            "-c",
            "from pytest_repro.cli.repro_vary import main; raise SystemExit(main())",
            *args,
        ]
    if tool == HOOK_CONFIG:
        return [
            sys.executable,
            "-c",
            "from pytest_repro.cli.repro_hook import main; raise SystemExit(main())",
            "config",
            *args,
        ]
    if tool == LOAD:
        return [sys.executable, "-c", _LOAD_MODEL, *args]
    if tool == PYTEST:
        return [
            sys.executable,
            "-m",
            "pytest",
            "--repro",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            *args,
        ]
    if tool == HOOK:
        return [
            sys.executable,
            "-c",
            "from pytest_repro.cli.repro_hook import main; raise SystemExit(main())",
            "lineage",
            *args,
        ]
    return [sys.executable, str(CHECK_SCRIPT), *args]


def _run(
    tool: str, cwd: Path, args: list[str], env: tuple[tuple[str, str], ...] = ()
) -> subprocess.CompletedProcess[str]:
    # The timeout bounds every case: a command that hangs fails its test instead of the session.
    return subprocess.run(
        _command(tool, args),
        cwd=cwd,
        env={**_env(), **dict(env)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _artifact_bytes(folder: Path) -> dict[str, bytes | None]:
    """Every file the output folder held, by name (None for a folder), the check's reports left out."""
    if not folder.is_dir():
        return {}
    return {
        p.name: (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.iterdir())
        if p.name not in CHECK_REPORTS
    }


@dataclass(frozen=True)
class Outcome:
    """What one case's command did: its result, and the output folder before and after it."""

    result: subprocess.CompletedProcess[str]
    before: dict[str, bytes | None]
    after: dict[str, bytes | None]
    check: subprocess.CompletedProcess[str] | None


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project trained once: one decision tree, two folds, a pinned 600-row slice; its check passes."""
    folder = write_small_project(tmp_path_factory.mktemp("trained"))
    result = _run(TRAIN, folder, [])
    assert result.returncode == 0, result.stderr
    check = _run(CHECK, folder, [])
    assert check.returncode == 0, check.stderr
    assert all((folder / "artifacts" / name).is_file() for name in ARTIFACTS)
    return folder


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, trained: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Run every selected case, each in its own copy of the trained project, several at a time."""
    selected = {
        item.callspec.id
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    cases = [c for c in CASES if c.id in selected and not (c.needs_non_root and AS_ROOT)]
    cases.sort(key=lambda c: not c.expensive)
    base = tmp_path_factory.mktemp("cases")
    prepared = []
    for case in cases:
        project = base / case.id
        shutil.copytree(trained, project, symlinks=True)
        args = case.setup(project)
        prepared.append((case, project, args, _artifact_bytes(project / "artifacts")))

    def run(entry: tuple[Case, Path, list[str], dict[str, bytes | None]]) -> tuple[str, Outcome]:
        case, project, args, before = entry
        result = _run(case.tool, project, args, case.env)
        check = _run(CHECK, project, []) if case.exit_code == 0 and case.tool == TRAIN else None
        return case.id, Outcome(result, before, _artifact_bytes(project / "artifacts"), check)

    workers = max(2, min(8, os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(run, prepared))


def test_the_catalogue_has_forty_distinct_cases():
    ids = [case.id for case in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=pytest.mark.skipif(
                case.needs_non_root and AS_ROOT,
                reason="root reads a file whatever its mode; dataset-is-a-folder covers an unreadable dataset",
            ),
        )
        for case in CASES
    ],
)
def test_bad_input_gets_one_clear_line_and_leaves_artifacts_untouched(
    case: Case, outcomes: dict[str, Outcome], trained: Path
):
    outcome = outcomes[case.id]
    result = outcome.result
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == case.exit_code, result.stderr
    if case.exit_code == 0:
        _assert_loaded_like_the_original(outcome, trained)
        return
    lines = result.stderr.splitlines()
    problems = [line for line in lines if line.strip() and not line.startswith(NOTES)]
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith(PROBLEM_PREFIXES), result.stderr
    assert case.says in problems[0], problems[0]
    assert outcome.after == outcome.before, "the bad run changed or added files in the output folder"
    if case.tool == TRAIN:  # the setup left the artifacts alone, so these are the trained bytes
        trained_bytes = _artifact_bytes(trained / "artifacts")
        assert {name: outcome.after[name] for name in ARTIFACTS} == {n: trained_bytes[n] for n in ARTIFACTS}


def _assert_loaded_like_the_original(outcome: Outcome, trained: Path) -> None:
    """A BOM or CRLF line ends are the same rows: the same model, and a lineage that verifies."""
    assert "error:" not in outcome.result.stderr, outcome.result.stderr
    assert outcome.check is not None and outcome.check.returncode == 0, outcome.check.stderr
    original = _artifact_bytes(trained / "artifacts")
    for name in ARTIFACTS[:-1]:
        assert outcome.after[name] == original[name], name
    assert outcome.after["lineage.json"] != original["lineage.json"]  # the dataset's hash changed


# --- processes: a training killed outright, a session killed outright, a silent run -----
# Each needs processes in a given state when the fault strikes, so each is a test of its
# own rather than a Case; each still ends in one line and its documented status, and waits
# only on what it started (pids it knows), polling with a generous bound.

GONE_WITHIN = 30.0  # seconds: a generous bound for processes to notice and end, never a timing claim
STARTED_WITHIN = 120.0


def _state(pid: int) -> str | None:
    """The process's state letter from /proc, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def _alive(pids: set[int]) -> set[int]:
    """The pids still running (a zombie has ended: it only waits for whoever adopted it to reap it)."""
    return {pid for pid in pids if _state(pid) not in (None, "Z")}


def _children(parent: int) -> dict[int, str]:
    """The processes whose parent is `parent`, by pid, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == parent:
            found[int(entry.name)] = command
    return found


def _poll(condition: Callable[[], Any], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {within:g} s: {what}"
        time.sleep(0.2)


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


@needs_proc
def test_a_training_killed_outright_leaves_the_next_ones_refusal_as_the_only_line(tmp_path: Path):
    # The whole bundled dataset and every model, so the first training is still fitting
    # with its worker processes when it is killed.
    for name in ("config.yaml", DATASET, PINS_FILE):
        shutil.copy2(ROOT / name, tmp_path / name)
    first_output = tmp_path / "first.txt"
    with first_output.open("wb") as output:
        first = subprocess.Popen(
            _command(TRAIN, ["--jobs", "2"]), cwd=tmp_path, env=_env(), stdout=output, stderr=output
        )
    try:
        # It holds the output folder's lock from before it reads the data until it has published.
        _poll(
            lambda: (tmp_path / "artifacts" / LOCK_NAME).exists() or first.poll() is not None,
            STARTED_WITHIN,
            "the first training takes the output folder's lock",
        )
        assert first.poll() is None, first_output.read_text()
        started = set(_children(first.pid))  # whatever it started (its CV runs in threads: nothing)
        second = _run(TRAIN, tmp_path, [])
    finally:
        first.kill()
        first.wait()
    _poll(lambda: not _alive(started), GONE_WITHIN, "the killed training's processes end")
    lines = first_output.read_text().splitlines() + (second.stdout + second.stderr).splitlines()
    assert second.returncode == 2, second.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "another training is writing to this folder" in lines[0], lines


_SLEEPER = """\
import os
import time
from pathlib import Path

Path({marks!r}, str(os.getpid())).write_text(str(os.getppid()))
time.sleep(600)
"""


def _sleeping_command_project(project: Path, marks: Path) -> None:
    """A command training that notes its pid (and its worker's) in `marks`, then sleeps for ten minutes."""
    project.mkdir(exist_ok=True)
    marks.mkdir()
    (project / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'repro_command = "python sleeper.py"\n'
        'repro_outputs = ["out.txt"]\n'
        'repro_seed_sensitivity = "off"\n',
        encoding="utf-8",
    )
    (project / "sleeper.py").write_text(_SLEEPER.format(marks=str(marks)), encoding="utf-8")


@needs_proc
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM", "SIGINT"])
def test_a_session_killed_while_its_runs_train_leaves_no_process_behind(tmp_path: Path, signal_name: str):
    project, marks = tmp_path / "project", tmp_path / "marks"
    _sleeping_command_project(project, marks)
    log = tmp_path / "pytest.txt"
    with log.open("wb") as output:
        session = subprocess.Popen(
            _command(PYTEST, ["--basetemp", str(tmp_path / "basetemp")]),
            cwd=project,
            env=_env(),
            stdout=output,
            stderr=output,
        )
    try:
        _poll(
            lambda: len(list(marks.iterdir())) == 2 or session.poll() is not None,
            STARTED_WITHIN,
            "both runs start their command",
        )
        assert session.poll() is None, log.read_text()
        # Each run: the worker pytest started (in a session of its own) and the command it runs.
        started = {int(mark.name) for mark in marks.iterdir()} | {int(m.read_text()) for m in marks.iterdir()}
        assert len(started) == 4 and _alive(started) == started, started
        session.send_signal(getattr(signal, signal_name))
        session.wait(timeout=GONE_WITHIN)
    finally:
        session.kill()
        session.wait()
    _poll(lambda: not _alive(started), GONE_WITHIN, f"the runs end after {signal_name} of pytest")


def test_a_silent_run_is_named_once_with_how_to_set_repro_timeout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    from pytest_repro.running import silent_runs

    monkeypatch.setattr(silent_runs, "QUIET_SECONDS", 1.0)  # the minute, shortened
    # The marks go outside the project: a run may not write into it.
    _sleeping_command_project(pytester.path, pytester.path.parent / f"{pytester.path.name}-marks")

    # Not -q: the note goes through the relay that prints the runs' own lines.
    result = pytester.runpytest("--repro", "--repro-timeout", "8", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the limit stopped both runs, as before
    notes = [line for line in result.outlines if "still running after" in line]
    assert notes, result.stdout.str()
    for label in ("run-a", "run-b"):
        assert sum(line.startswith(f"[repro {label}] ") for line in notes) <= 1, notes
    assert re.fullmatch(
        r"\[repro run-[ab]\] \[pytest-repro: still running after \d+ s, with no output for \d+ s; it is "
        r"stopped after 8 s \(repro_timeout\): set repro_timeout in the ini file, or --repro-timeout "
        r"SECONDS, to change that\]",
        notes[0],
    ), notes
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
