"""Replay: a fresh training must reproduce the hashes of a lineage recorded earlier."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from recorded_lineage import record_lineage as _record_lineage
from recorded_lineage import rewrite as _rewrite


def test_replay_passes_when_a_fresh_run_reproduces_the_recorded_hashes(example):
    example.write(lineage=True)
    _record_lineage(example.path)
    result = example.run("--repro", "-k", "replay")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["replay *reproduced (recorded vs fresh outputs)"])


def test_replay_mismatch_names_the_hashes_and_the_environment_change(example):
    example.write(lineage=True)
    recorded = _record_lineage(example.path)
    _rewrite(
        recorded,
        {"model": {"sha256": "0" * 64}},
        environment={"packages": {"scikit-learn": "1.8.0"}, "python": "3.11.7"},
    )
    result = example.run("--repro", "-k", "replay")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*a fresh training does not reproduce the recorded lineage:*",
            "*model: recorded 0000000000000000*, fresh *",
            "*probable cause, the environment changed since the recorded run:*",
            "*scikit-learn 1.8.0 -> None*",
        ]
    )


def test_replay_is_skipped_for_a_lineage_of_another_config_file(example):
    example.write(lineage=True)
    recorded = _record_lineage(example.path)
    _rewrite(recorded, {"config": {"path": "experiments/other.yaml", "sha256": "1" * 64}})
    result = example.run("--repro", "-k", "replay", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*the recorded lineage is for another config (experiments/other.yaml; this run: config.yaml)*"]
    )


def test_a_changed_input_is_named_first_when_the_outputs_differ(example):
    example.write(lineage=True)
    recorded = _record_lineage(example.path)
    _rewrite(recorded, {"config": {"sha256": "1" * 64}, "model": {"sha256": "0" * 64}})
    result = example.run("--repro", "-k", "replay")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ repro replay _*",
            "config changed since the lineage was recorded: a fresh training does not reproduce it",
            "  config: recorded sha256 111111111111, now *",
            "outputs that differ:",
            "  model: recorded 0000000000000000*, fresh *",
            "retrain to record the change (repro-run), or undo it",
        ]
    )
    result.stdout.fnmatch_lines(["replay * differs (config changed; recorded vs fresh outputs)"])


def test_replay_passes_saying_so_when_an_input_changed_but_every_output_is_the_same(example):
    example.write(lineage=True)
    recorded = _record_lineage(example.path)
    _rewrite(recorded, {"config": {"sha256": "1" * 64}})
    result = example.run("--repro", "-k", "replay")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["replay * reproduced (although config changed; recorded vs fresh outputs)"])


def test_replay_is_skipped_without_a_recorded_lineage(example):
    example.write(lineage=True)
    result = example.run("--repro", "-k", "replay", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no recorded lineage at artifacts/lineage.json to replay*"])


# A training whose model is a matrix product: its last bits depend on the BLAS kernel that computed it.
_KERNEL_TRAINING = """\
import json
from pathlib import Path

import numpy as np


def train(config_path, output_dir, seed=None, overrides=None):
    a = np.random.default_rng(1).normal(size=(50, 300))
    b = np.random.default_rng(2).normal(size=(300, 20))
    (Path(output_dir) / "model.json").write_text(json.dumps((a @ b).ravel().tolist()))
    return {"artifacts": {"model": "model.json"}, "folds": None, "metrics": {"rows": 50}}
"""

_RECORD = (
    "from pathlib import Path; from pytest_repro.core.entry_points import RunRequest; "
    "from pytest_repro.running.launcher import train_once; "
    "train_once(RunRequest('tinytrain:train', Path('config.yaml').resolve(), None), Path('recorded').resolve())"
)


@pytest.mark.slow
def test_replay_of_a_lineage_recorded_under_another_blas_kernel_names_the_kernel_first(example):
    """The lineage of another runner (another OpenBLAS kernel family) fails replay, and says why."""
    import os
    import subprocess

    from pytest_repro.core.run_records import RunRequest
    from pytest_repro.variations import Workspace, lookup

    example.write(_KERNEL_TRAINING, config={"seed": 3})
    ws = Workspace(
        RunRequest("tinytrain:train", example.path / "config.yaml", 3),
        example.path / "ws",
        example.path,
        example.path,
    )
    blas_kernel = lookup("blas_kernel")
    reason = blas_kernel.unavailable(ws)
    if reason is not None:
        pytest.skip(f"no other BLAS kernel family to record with here: {reason}")
    other = blas_kernel.varied(ws)
    current = "/".join(ws.kernels().architectures())
    recorded_family = "/".join(ws.kernels(dict(other.env)).architectures())
    (example.path / "recorded").mkdir()
    env = {**os.environ, **other.env, "PYTHONPATH": str(example.path)}
    subprocess.run([sys.executable, "-c", _RECORD], cwd=example.path, env=env, check=True, timeout=120)

    result = example.run("--repro", "--repro-lineage", "recorded.lineage.json", "-k", "replay")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*a fresh training does not reproduce the recorded lineage:*",
            "*model: recorded *, fresh *",
            "*probable cause, the environment changed since the recorded run:*",
            f"*  BLAS kernel {recorded_family} -> {current} (*",
        ]
    )


# A training that reads the data its config names, relative to the config, and records its own lineage.
_DATA_TRAINING = """\
import json
from pathlib import Path

from pytest_repro.lineage import write_lineage


def train(config_path, output_dir, seed=None, overrides=None):
    config_path = Path(config_path)
    settings = dict(line.split(": ") for line in config_path.read_text().splitlines())
    data = config_path.parent / settings["data"]
    rows = [float(value) for value in data.read_text().split()]
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.json").write_text(json.dumps({"mean": sum(rows) / len(rows)}))
    write_lineage(
        out / "lineage.json",
        inputs={"config": config_path, "dataset": data},
        outputs={"model": out / "model.json"},
        seed=int(settings["seed"]),
        environment={},
        code=None,
    )
    return {"artifacts": {"model": "model.json"}, "folds": None, "metrics": {"rows": len(rows)},
            "lineage": "lineage.json"}
"""


def test_config_and_data_outside_the_project_pass_path_and_replay_against_the_lineage_beside_them(example):
    example.write(_DATA_TRAINING, config={"seed": 3})
    experiment = example.path.parent / f"{example.path.name}-experiment"
    (experiment / "data").mkdir(parents=True)
    (experiment / "data" / "rows.txt").write_text("1.5 2.5 4.0\n")
    (experiment / "train.yaml").write_text("seed: 3\ndata: data/rows.txt\n")
    spec = importlib.util.spec_from_file_location("tinytrain_experiment", example.path / "tinytrain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.train(
        experiment / "train.yaml", experiment / "artifacts"
    )  # as the user trained it, beside the config

    # One word: pytest looks for its ini file before it knows the option (see the test below).
    result = example.run(
        "--repro", f"--repro-config={experiment / 'train.yaml'}", "--repro-vary=path", "-k", "replay or vary"
    )

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "replay * reproduced (recorded vs fresh outputs)",
            "vary[[]path] * identical (the project folder -> a copy in another folder, alone)",
        ]
    )


def test_a_separate_config_path_outside_the_project_gets_a_usage_error_that_says_how_to_write_it(example):
    example.write()
    outside = example.path.parent / f"{example.path.name}-outside"
    outside.mkdir()
    (outside / "config.yaml").write_text("seed: 3\n")

    result = example.run("--repro", "--repro-config", str(outside / "config.yaml"))

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no ini file found*write --repro-config=PATH (one word)*"])


def _written(folder: Path, outputs: dict[str, str], inputs: dict[str, str]) -> Path:
    from pytest_repro.lineage.writing import write_lineage

    for relative, text in {**outputs, **inputs}.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return write_lineage(
        folder / "lineage.json",
        inputs={name: folder / name for name in inputs},
        outputs={name: folder / name for name in outputs},
        environment={},
        code=None,
        signing_key=None,
    )


def test_outputs_only_one_lineage_names_are_paired_by_file_name(tmp_path: Path):
    """A hand-written lineage's `model` is the twins' `models/model.pkl` when only one file is called so."""
    from types import SimpleNamespace

    from pytest_repro.diagnose.replay import replay_recorded

    recorded = _written(tmp_path / "recorded", {"model.pkl": "weights"}, {"data.csv": "1,2"})
    fresh = _written(tmp_path / "fresh", {"models/model.pkl": "weights"}, {"data.csv": "1,2"})
    outcome = replay_recorded(recorded, SimpleNamespace(lineage=fresh))
    assert (outcome.mismatches, outcome.changed_note) == ((), "")

    fresh = _written(tmp_path / "fresh", {"models/model.pkl": "other weights"}, {"data.csv": "1,3"})
    outcome = replay_recorded(recorded, SimpleNamespace(lineage=fresh))
    assert outcome.changed_note == "data.csv changed"
    lines = outcome.render().splitlines()
    assert (
        lines[0] == "data.csv changed since the lineage was recorded: a fresh training does not reproduce it"
    )
    assert lines[3].startswith("  model.pkl (this run: models/model.pkl): recorded ")


def test_a_recorded_lineage_edited_after_signing_or_climbing_out_is_refused_not_replayed(tmp_path: Path):
    """Replay reads hashes only, but from a lineage it can trust: its envelope must hold it, its paths stay in."""
    import json
    from types import SimpleNamespace

    from pytest_repro.diagnose.replay import replay_recorded
    from pytest_repro.errors import LineageError, SignatureError
    from pytest_repro.lineage.signing import sign_lineage

    recorded = _written(tmp_path / "recorded", {"model.pkl": "weights"}, {"data.csv": "1,2"})
    fresh = _written(tmp_path / "fresh", {"model.pkl": "weights"}, {"data.csv": "1,2"})
    sign_lineage(recorded, b"0123456789abcdef")
    _rewrite(recorded, {"model.pkl": {"sha256": "0" * 64}})
    with pytest.raises(SignatureError, match="the lineage was changed after signing"):
        replay_recorded(recorded, SimpleNamespace(lineage=fresh))

    (tmp_path / "recorded" / "lineage.json.dsse.json").unlink()
    lineage = json.loads(recorded.read_text())
    lineage["outputs"]["model.pkl"]["path"] = "../fresh/model.pkl"
    recorded.write_text(json.dumps(lineage))
    with pytest.raises(LineageError, match="path escapes outside the project root"):
        replay_recorded(recorded, SimpleNamespace(lineage=fresh))
