"""A variation's failure, and twins the recorders cannot explain, lead with their cause.

Planted causes, one each, in a command training (a script) and a function training:
a `datetime.now()` feature under `time`, a TZ read under `tz`, a read of the
`REPRO_N_JOBS` the `n_jobs` variation sets, a folder read in directory order under `dir_order`, and a set of strings
iterated (the twins' hash seeds, found by training the pair again with equal ones).
The failure's first line names the planted file and line (the set: the hash seed,
since no hook sees a set iterated).  Deterministic controls pass with no cause line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytest_repro.running.narrowing import HASH_SEED_CAUSE, PLACE_CAUSE

# Each planted body computes `value` at its line 3 (of the function's body: line 8 of the module).
PLANTED = {
    "time": ("from datetime import datetime", "value = datetime.now().toordinal()", "calls datetime.now()"),
    "tz": ("import os", 'value = os.environ.get("TZ", "")', "reads TZ"),
    "n_jobs": ("import os", 'value = 1 / int(os.environ.get("REPRO_N_JOBS", "1"))', "reads REPRO_N_JOBS"),
    "dir_order": ("import os", 'value = os.listdir("data/shards")', "lists data/shards in directory order"),
    "hashseed": ("import os", 'value = list({"apple", "banana", "cherry", "damson", "elder", "fig"})', ""),
    "place": ("import os", "value = os.getcwd()", ""),
}
CONTROLS = {"dir_order": 'value = sorted(os.listdir("data/shards"))'}

SCRIPT = """\
import json
{imports}
{line}
from pathlib import Path

Path("out").mkdir(exist_ok=True)
Path("out/result.json").write_text(json.dumps(value))
"""
SCRIPT_LINE = 3

FUNCTION = """\
import json
{imports}
from pathlib import Path


def train(config_path, output_dir, seed=None, overrides=None):
    root = Path(__file__).parent
    {line}
    Path(output_dir, "result.json").write_text(json.dumps(value))
    return {{"artifacts": {{"result": "result.json"}}, "metrics": {{}}}}
"""
FUNCTION_LINE = 8


def _project(root: Path, kind: str, imports: str, line: str) -> str:
    """Write the planted project; return the file the planted line is in, as a site shows it."""
    (root / "data" / "shards").mkdir(parents=True)
    for name in ("b.csv", "a.csv", "d.csv", "c.csv"):
        (root / "data" / "shards" / name).write_text(f"{name}\n")
    if kind == "command":
        (root / "src").mkdir()
        (root / "src" / "features.py").write_text(SCRIPT.format(imports=imports, line=line))
        (root / "pyproject.toml").write_text(
            '[tool.pytest.ini_options]\nrepro_command = "python src/features.py"\n'
            'repro_outputs = ["out/result.json"]\n'
        )
        (root / ".gitignore").write_text("out/\n")
        for command in (
            ["init", "-q"],
            ["add", "-A"],
            ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
        ):
            subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
        return f"src/features.py:{SCRIPT_LINE}"
    line = line.replace('"data/shards"', 'root / "data" / "shards"')
    (root / "featurefn.py").write_text(FUNCTION.format(imports=imports, line=line))
    (root / "config.yaml").write_text("seed: 1\n")
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\nrepro_train = "featurefn:train"\n')
    return f"featurefn.py:{FUNCTION_LINE}"


def _first_failure_line(result: pytest.RunResult, item: str) -> str:
    lines = result.stdout.lines
    header = next(i for i, line in enumerate(lines) if line.strip("_ ").startswith(f"repro {item}"))
    return lines[header + 1]


def _run(pytester: pytest.Pytester, variation: str) -> pytest.RunResult:
    options = ["--repro", "-p", "no:cacheprovider"]
    if variation != "hashseed":
        options += [f"--repro-vary={variation}", "-m", "repro_probe"]
    return pytester.runpytest_subprocess(*options)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["command", "function"])
@pytest.mark.parametrize("variation", ["time", "tz", "n_jobs", "dir_order"])
def test_a_variation_failure_leads_with_the_planted_line(
    pytester: pytest.Pytester, kind: str, variation: str
):
    imports, line, says = PLANTED[variation]
    site = _project(pytester.path, kind, imports, line)
    result = _run(pytester, variation)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert _first_failure_line(result, f"vary[{variation}]") == f"cause: {site} {says}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["command", "function"])
def test_twins_that_iterate_a_set_of_strings_are_narrowed_to_the_hash_seed(
    pytester: pytest.Pytester, kind: str
):
    imports, line, _ = PLANTED["hashseed"]
    _project(pytester.path, kind, imports, line)
    result = pytester.runpytest_subprocess("--repro", "-m", "repro", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert _first_failure_line(result, "artifacts") == HASH_SEED_CAUSE


@pytest.mark.slow
def test_twins_that_write_where_they_run_are_narrowed_to_their_folders(pytester: pytest.Pytester):
    imports, line, _ = PLANTED["place"]
    _project(pytester.path, "command", imports, line)
    result = pytester.runpytest_subprocess("--repro", "-m", "repro", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert _first_failure_line(result, "artifacts") == PLACE_CAUSE


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["command", "function"])
def test_a_sorted_listing_passes_dir_order_with_no_cause(pytester: pytest.Pytester, kind: str):
    _project(pytester.path, kind, "import os", CONTROLS["dir_order"])
    result = _run(pytester, "dir_order")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "cause:" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*vary[[]dir_order]*identical*"])


LOGISTIC = """\
import pickle
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

words = list({"apple", "banana", "cherry", "damson", "elder", "fig", "grape", "hazel"})
X = np.array([[len(word), index] for index, word in enumerate(words)], dtype=float)
y = np.array([len(word) % 2 for word in words])
model = LogisticRegression(random_state=None).fit(X, y)
Path("out").mkdir(exist_ok=True)
Path("out/model.pkl").write_bytes(pickle.dumps(model))
"""


@pytest.mark.slow
def test_an_lbfgs_logistic_regression_fed_by_a_set_is_no_cause_the_hash_seed_is(pytester: pytest.Pytester):
    _project(pytester.path, "command", "", "")
    (pytester.path / "src" / "features.py").write_text(LOGISTIC)
    (pytester.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_command = "python src/features.py"\nrepro_outputs = ["out/model.pkl"]\n'
    )
    result = pytester.runpytest_subprocess("--repro", "-m", "repro", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert _first_failure_line(result, "artifacts") == HASH_SEED_CAUSE
    assert "candidate cause" not in result.stdout.str()
    assert "random_state=None" not in result.stdout.str()
