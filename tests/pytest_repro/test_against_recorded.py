"""Against a recorded run: `pytest --repro --repro-against LINEAGE` trains run-b only and compares it with that run.

The recorded run is made the way CI makes it: the training runs once, by hand, and
writes its outputs and their lineage into the project.  A function training and a
command training (a script that writes its own lineage) are both covered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from recorded_lineage import record_lineage, rewrite

from pytest_repro.lineage.hashing import sha256_file

# Each training appends a line to the file TRAININGS_LOG names (outside the project, which
# a run may not write); the recording, before the variable is set, is not counted.
COUNTED = (
    '__import__("os").environ.get("TRAININGS_LOG") and '
    'Path(__import__("os").environ["TRAININGS_LOG"]).open("a").write("trained\\n")'
)
AGAINST = ("--repro", "--repro-against", "artifacts/lineage.json")


def _trained(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _record(example, monkeypatch, **knobs) -> tuple[Path, Path]:
    """Train once by hand into artifacts/; then log every training: return the lineage and the log."""
    example.write(lineage=True, before=COUNTED, **knobs)
    recorded = record_lineage(example.path)
    log = example.path.parent / f"{example.path.name}-trainings.log"
    monkeypatch.setenv("TRAININGS_LOG", str(log))
    return recorded, log


@pytest.mark.slow
def test_a_matching_recorded_run_passes_and_only_run_b_trains(example, monkeypatch):
    recorded, log = _record(example, monkeypatch, isolation=None)  # run-b in a subprocess, as in CI

    result = example.run(*AGAINST, "-rs")

    result.assert_outcomes(passed=7, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "repro: isolation: 1 subprocess (PYTHONHASHSEED 2, *); "
            "run-a is the recorded run artifacts/lineage.json, only run-b trains",
            "repro: rerun with: pytest --repro * --repro-against artifacts/lineage.json",
        ]
    )
    result.stdout.fnmatch_lines(["artifact[[]model] * identical", "folds * identical*"])
    result.stdout.fnmatch_lines(["*the recorded run kept no output holding the metrics run-b returned*"])
    assert _trained(log) == 1
    assert "seed-sensitivity" not in result.stdout.str()  # not asked for: it would be a second training
    assert recorded.is_file()


def test_a_recorded_run_that_verifies_but_differs_fails_with_the_twins_diagnosis(example, monkeypatch):
    recorded, trainings = _record(example, monkeypatch)
    # The recorded run wrote another threshold, and its lineage says so: it verifies, and differs.
    threshold = example.path / "artifacts" / "threshold.txt"
    threshold.write_text("0.625\n")
    rewrite(recorded, {"threshold": {"sha256": sha256_file(threshold)}})

    result = example.run(*AGAINST)

    result.assert_outcomes(failed=2, passed=5, skipped=1)
    result.stdout.fnmatch_lines(["*threshold differs: 0.625 != 0.5*"])
    result.stdout.fnmatch_lines(["FAILED config.yaml::replay - a fresh training does not reproduce*"])
    assert _trained(trainings) == 1


def test_a_recorded_output_changed_since_is_refused_in_one_line_before_any_training(example, monkeypatch):
    _, trainings = _record(example, monkeypatch)
    model = example.path / "artifacts" / "model.joblib"
    model.write_bytes(model.read_bytes() + b"\0")

    result = example.run(*AGAINST)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --repro-against artifacts/lineage.json: the recorded run does not verify: "
            "model: artifacts/model.joblib: SHA-256 is * but the lineage records *"
        ]
    )
    assert len(result.stderr.lines) == 1 or not result.stderr.lines[1].strip()
    assert _trained(trainings) == 0


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"seed": 4}, "the recorded run used seed 4, today's runs use 3"),
        (
            {"code": {"git_commit": "c0ffee" * 6 + "c0ff", "dirty": False}},
            "the recorded run is of commit c0ffeec0ffee (clean), this checkout is not a git checkout",
        ),
    ],
    ids=["seed", "code"],
)
def test_a_recorded_run_of_another_seed_or_code_is_refused_in_one_line(example, monkeypatch, change, refusal):
    recorded, trainings = _record(example, monkeypatch)
    rewrite(recorded, **change)

    result = example.run(*AGAINST)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --repro-against artifacts/lineage.json: {refusal}"])
    assert _trained(trainings) == 0


def test_a_recorded_run_of_another_config_is_refused_in_one_line(example, monkeypatch):
    _, trainings = _record(example, monkeypatch)
    config = example.path / "config.yaml"
    config.write_text(config.read_text() + "# edited after the recorded run\n")

    result = example.run(*AGAINST)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --repro-against artifacts/lineage.json: the recorded run read another config than "
            "today's: config: config.yaml: SHA-256 is * but the lineage records *"
        ]
    )
    assert _trained(trainings) == 0


def test_the_ini_setting_names_itself_in_the_refusal(example):
    example.write(lineage=True, ini={"repro_against": "artifacts/lineage.json"})

    result = example.run("--repro")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: ini repro_against artifacts/lineage.json: Missing artifacts/lineage.json. Run training first."
        ]
    )


def test_against_without_the_repro_flag_is_a_usage_error(example):
    example.write()

    result = example.run("--repro-against", "artifacts/lineage.json")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --repro-against: *; add --repro"])


def test_the_seed_probe_is_collected_against_a_recorded_run_only_when_asked(example, monkeypatch):
    _record(example, monkeypatch, ini={"repro_seed_sensitivity": "warn"})

    plain = example.run(*AGAINST, "--collect-only", "-q")
    asked = example.run(*AGAINST, "--repro-seed-sensitivity", "warn", "--collect-only", "-q")

    assert "seed-sensitivity" not in plain.stdout.str()
    asked.stdout.fnmatch_lines(["config.yaml::seed-sensitivity"])


# ------------------------------------------------------------------ a command training

SCRIPT = """\
import hashlib
import json
from pathlib import Path

from pytest_repro.lineage import write_lineage

data = Path("data/rows.csv").read_bytes()
seed = 11
Path("models").mkdir(exist_ok=True)
weights = hashlib.sha256(data + str(seed).encode() + OFFSET).hexdigest()
Path("models/model.bin").write_text(weights)
Path("metrics.json").write_text(json.dumps({"score": int(weights[:4], 16) / 65536}))
write_lineage(
    "models/lineage.json",
    inputs={"rows": "data/rows.csv", "config": "config.yaml"},
    outputs={"model": "models/model.bin", "metrics": "metrics.json"},
    seed=seed,
    environment={},
    code=None,
    signing_key=None,
)
"""


def _command_project(pytester: pytest.Pytester, offset: bytes = b"") -> Path:
    """A script training that writes its model, metrics and lineage, trained once by hand."""
    pytester.makefile(
        ".toml",
        pyproject="[tool.pytest.ini_options]\n"
        'repro_command = "python train.py"\n'
        'repro_outputs = ["models/model.bin", "metrics.json"]\n'
        'repro_metrics = "metrics.json"\n',
    )
    (pytester.path / "config.yaml").write_text("seed: 11\n")
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "rows.csv").write_text("x,y\n1,0\n2,1\n")
    (pytester.path / "train.py").write_text(SCRIPT.replace("OFFSET", repr(offset)))
    subprocess.run([sys.executable, "train.py"], cwd=pytester.path, check=True)
    (pytester.path / "train.py").write_text(SCRIPT.replace("OFFSET", "b''"))
    return pytester.path / "models" / "lineage.json"


def test_a_command_training_is_compared_with_its_recorded_run_output_by_output(pytester: pytest.Pytester):
    _command_project(pytester)

    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--repro", "--repro-against", "models/lineage.json", "-rs"
    )

    result.stdout.fnmatch_lines(["*passed*"])
    result.stdout.fnmatch_lines(["metrics * equal"])
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


@pytest.mark.slow
def test_a_command_training_whose_recorded_run_differs_fails_naming_the_output(pytester: pytest.Pytester):
    # The recorded run was made by other code (a different offset), with the same inputs and seed.
    _command_project(pytester, offset=b"other code")
    recorded = json.loads((pytester.path / "models" / "lineage.json").read_text())["outputs"]

    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--repro", "--repro-against", "models/lineage.json"
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*2 of 2 artifacts differ: metrics.json, models/model.bin*",
            f"*{recorded['model']['sha256'][:12]}*",
        ]
    )
    result.stdout.fnmatch_lines(["*/score: * != * (|Δ| *"])


def test_the_recorded_outputs_the_checks_open_are_private_copies_hashed_after_run_b(tmp_path: Path):
    """The recorded model is copied and hashed when run-b ends: a swap after that is never seen, one before refused."""
    from pytest_repro.core.run_records import RunRecord
    from pytest_repro.lineage.writing import write_lineage
    from pytest_repro.running.recorded import RecordedRunRefused, check_recorded_run, recorded_twin

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "artifacts").mkdir()
    model = project / "models" / "model.pkl"
    model.write_bytes(b"\x80\x04K\x01.")  # pickle.dumps(1)
    lineage = write_lineage(
        project / "artifacts" / "lineage.json",
        inputs={},
        outputs={"model": model},
        environment={},
        code=None,
        signing_key=None,
    )
    check_recorded_run(
        lineage, project_root=project, config_path=project / "none.yaml", seed=None, source="--repro-against"
    )
    (tmp_path / "run-b").mkdir()
    fresh = RunRecord("run-b", tmp_path / "run-b", {}, {}, None, None, None, 0.0)

    twin = recorded_twin(lineage, fresh, project)
    model.write_bytes(b"\x80\x04K\x02.")  # swapped after the copy: the copy is what the checks open
    assert twin.artifacts["model"] != model and twin.artifacts["model"].read_bytes() == b"\x80\x04K\x01."
    assert twin.artifacts["model"].parent.parent.stat().st_mode & 0o077 == 0  # a private folder

    with pytest.raises(RecordedRunRefused, match=r"changed since it was verified: model: models/model\.pkl"):
        recorded_twin(lineage, fresh, project)  # swapped before run-b ended: refused, nothing copied to open
