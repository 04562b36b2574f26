"""Command trainings: repositories shaped like real ones, adopted with ini lines alone.

Each project is a git repository whose script trains at import time, reads `data/`
(git-ignored, as data usually is) and writes `models/` by paths relative to its
working directory.  Each deterministic variant passes; each planted cause fails,
naming it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytest_repro.variations import choose_locales, installed_locales

DATA = "a,b,y\n" + "".join(f"{i % 7 / 7:.3f},{(i * 3) % 11 / 11:.3f},{int(i % 7 > 3)}\n" for i in range(120))

IMPORT_TIME_SCRIPT = """\
import json, pickle
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

rows = [line.split(",") for line in Path("data/train.csv").read_text().splitlines()[1:]]
X = np.array([[float(a), float(b)] for a, b, _ in rows])
y = np.array([int(label) for _, _, label in rows])
model = RandomForestClassifier(n_estimators=8, max_depth=3, {forest}).fit(X, y)
Path("models").mkdir(exist_ok=True)
with open("models/model.pkl", "wb") as handle:
    pickle.dump(model, handle)
metrics = {{"accuracy": float(model.score(X, y))}}
{extra}
Path("reports").mkdir(exist_ok=True)
Path("reports/metrics.json").write_text(json.dumps(metrics, sort_keys=True))
"""

ARGPARSE_SCRIPT = """\
import argparse, json
from pathlib import Path

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
weights = np.random.default_rng(args.seed).normal(size=16)
Path(args.out, "weights.npy").write_bytes(weights.tobytes())
Path(args.out, "metrics.json").write_text(json.dumps({"norm": float(np.linalg.norm(weights))}))
"""


def _repository(root: Path, script: str, ini: str) -> Path:
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(script)
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_text(DATA)
    (root / ".gitignore").write_text("data/\nmodels/\nreports/\n")
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n" + ini)
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    return root


IMPORT_TIME_INI = """\
repro_command = "python src/train.py"
repro_outputs = ["models/*.pkl", "reports/metrics.json"]
repro_metrics = "reports/metrics.json"
"""


@pytest.mark.slow
def test_an_import_time_script_with_relative_paths_passes_untouched(pytester: pytest.Pytester):
    root = _repository(
        pytester.path, IMPORT_TIME_SCRIPT.format(forest="random_state=42", extra=""), IMPORT_TIME_INI
    )
    result = pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider", "-rs")
    result.stdout.fnmatch_lines(
        [
            "artifacts * 2 files * 2 files * identical (2 artifacts: models/model.pkl, reports/metrics.json)",
            "folds * skipped: the training returns no folds",
            "metrics * equal",
            "lineage[[]run-a] * verified (4 files, unsigned)",  # the script and its data, read; 2 outputs
            "seed-sensitivity * skipped: the command sets its own seed",
        ]
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert not (root / "models").exists(), "a run wrote into the user's tree"


@pytest.mark.slow
def test_an_unseeded_forest_in_a_script_is_named(pytester: pytest.Pytester):
    root = _repository(
        pytester.path, IMPORT_TIME_SCRIPT.format(forest="random_state=None", extra=""), IMPORT_TIME_INI
    )
    result = pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*_ repro artifacts _*",
            "*artifacts differ: models/model.pkl*",
            "    models/model.pkl.estimators_: 8 of 8 estimators differ",
            "    candidate cause: models/model.pkl RandomForestClassifier has random_state=None",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert not (root / "models").exists(), "a run wrote into the user's tree"


@pytest.mark.slow
def test_a_wall_clock_metric_in_a_notebook_style_script_is_named(pytester: pytest.Pytester):
    script = IMPORT_TIME_SCRIPT.format(
        forest="random_state=42", extra='import time\nmetrics["trained_at"] = time.time()'
    )
    _repository(pytester.path, script, IMPORT_TIME_INI)
    result = pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*_ repro metrics _*", "metrics differ: 1 of 2 values differ*", "  /trained_at: *"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.slow
def test_a_script_with_an_argparse_seed_gets_its_seed_and_output_folder(pytester: pytest.Pytester):
    ini = """\
repro_command = "python src/train.py --seed {seed} --out {output_dir}"
repro_metrics = "repro-output/metrics.json"
repro_seed_sensitivity = "fail"
"""
    (pytester.path / "config.yaml").write_text("seed: 11\n")
    _repository(pytester.path, ARGPARSE_SCRIPT, ini)
    result = pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "repro: on; entry command: python src/train.py --seed {seed} --out {output_dir}, config config.yaml *, seed 11",
            "artifacts * identical (2 artifacts: repro-output/metrics.json, repro-output/weights.npy)",
            "seed-sensitivity * seed used (seed 12 changed *)",
        ]
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_a_command_without_outputs_is_one_usage_error(pytester: pytest.Pytester):
    (pytester.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_command = "python train.py"\n'
    )
    result = pytester.runpytest("--repro")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "repro_outputs: not set" in result.stderr.str()


def test_an_unknown_placeholder_is_one_usage_error(pytester: pytest.Pytester):
    (pytester.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_command = "python train.py --out {outdir}"\nrepro_outputs = ["m.pkl"]\n'
    )
    result = pytester.runpytest("--repro")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown placeholder {outdir}; allowed: {seed}, {output_dir}, {config}" in result.stderr.str()


SET_ORDER_SCRIPT = """\
import json, pickle
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

header, *lines = Path("data/train.csv").read_text().splitlines()
names = header.split(",")
features = list({"a", "b"})  # a set: its order follows PYTHONHASHSEED
columns = [names.index(name) for name in features]
rows = np.array([[float(v) for v in line.split(",")] for line in lines])
model = LogisticRegression().fit(rows[:, columns], rows[:, -1].astype(int))
Path("models").mkdir(exist_ok=True)
with open("models/model.pkl", "wb") as handle:
    pickle.dump(model, handle)
Path("reports").mkdir(exist_ok=True)
Path("reports/metrics.json").write_text(json.dumps({"features": features}))
"""


@pytest.mark.slow
def test_a_column_list_built_from_a_set_is_named(pytester: pytest.Pytester):
    _repository(pytester.path, SET_ORDER_SCRIPT, IMPORT_TIME_INI)
    # The twins run with PYTHONHASHSEED 1 and 2, which order {"a", "b"} differently here.
    result = pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*_ repro metrics _*", "metrics differ: *", "  /features/0: 'a' != 'b'*"])
    result.stdout.fnmatch_lines(["*models/model.pkl.coef_: 2 of 2 elements differ*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


PACKAGE_SCRIPT = """\
import pickle
from pathlib import Path

import numpy as np
from churnlib.pipeline import build

rows = np.loadtxt("data/train.csv", delimiter=",", skiprows=1)
model = build({C}).fit(rows[:, :2], rows[:, 2].astype(int))
Path("models").mkdir(exist_ok=True)
with open("models/model.pkl", "wb") as handle:
    pickle.dump(model, handle)
"""

PACKAGE_PIPELINE = """\
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer


def log_features(X):
    return np.log1p(X)


def build(C):
    return make_pipeline(FunctionTransformer(log_features), LogisticRegression(C=C))
"""


@pytest.mark.slow
def test_a_pipeline_holding_the_projects_own_function_is_diagnosed_attribute_by_attribute(
    pytester: pytest.Pytester,
):
    """The comparing process imports the project as the training did, so the model loads and is walked."""
    (pytester.path / "churnlib").mkdir()
    (pytester.path / "churnlib" / "__init__.py").write_text("")
    (pytester.path / "churnlib" / "pipeline.py").write_text(PACKAGE_PIPELINE)
    # A C that differs between the twins: they run with PYTHONHASHSEED 1 and 2.
    script = PACKAGE_SCRIPT.replace("{C}", "float(__import__('os').environ['PYTHONHASHSEED'])")
    ini = 'repro_command = "python src/train.py"\nrepro_outputs = ["models/*.pkl"]\n'
    _repository(pytester.path, script, ini)
    result = pytester.runpytest_subprocess("--repro", "-p", "no:cacheprovider")
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*models/model.pkl.named_steps[[]'logisticregression'[]].get_params()[[]'C'[]]: 1.0 != 2.0"]
    )
    assert "could not load" not in output and "ModuleNotFoundError" not in output


@pytest.mark.slow
def test_the_variation_hunt_runs_a_script_too(pytester: pytest.Pytester):
    _repository(pytester.path, IMPORT_TIME_SCRIPT.format(forest="random_state=42", extra=""), IMPORT_TIME_INI)
    result = pytester.runpytest_subprocess("--repro", "--repro-vary=path,cwd,tz", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["vary[[]path] * identical (*)", "vary[[]tz] * identical (*)"])
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


# Collation needs an installed locale that sorts otherwise (.ci/run generates de_DE.UTF-8).
NEEDS_COLLATING_LOCALE = pytest.mark.skipif(
    choose_locales(installed_locales())[1] is None,
    reason="only locales that sort by code point are installed (locale-gen de_DE.UTF-8 to run it)",
)
COLLATED_CATEGORIES = """\
import locale
locale.setlocale(locale.LC_ALL, "")
metrics["categories"] = sorted(["b", "A", "a", "B", "e"], key=locale.strxfrm)
"""


@pytest.mark.slow
@NEEDS_COLLATING_LOCALE
def test_a_script_sorting_by_the_locales_collation_fails_the_locale_variation_only(pytester: pytest.Pytester):
    script = IMPORT_TIME_SCRIPT.format(forest="random_state=42", extra=COLLATED_CATEGORIES)
    _repository(pytester.path, script, IMPORT_TIME_INI)
    result = pytester.runpytest_subprocess("--repro", "--repro-vary=locale,tz", "-p", "no:cacheprovider")
    output = result.stdout.str()
    result.stdout.fnmatch_lines(["vary[[]tz] * identical (*)", "*FAILED*vary[[]locale]*"])
    assert "reports/metrics.json" in output
    assert result.parseoutcomes()["failed"] == 1, output
