"""The lineage records the hash of the bytes the model was trained on, even when a file is swapped mid-run.

`python -m training` runs with its fit wrapped so that, once training has read its
inputs and started fitting, both the config (seed 42 -> 7) and the dataset (one row
more, re-pinned) are replaced on disk.  The run must record the config and dataset it
read, not the files lying there when it publishes: so the recorded hashes are those of
the original bytes, the metrics say seed 42, and the check afterwards names the two
files that changed since.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from checkout import ROOT
from small_project import write_small_project

from pytest_repro.lineage.hashing import sha256_bytes
from pytest_repro.lineage.pins import pin_dataset

pytestmark = pytest.mark.slow
DATASET = "ml_datasource.csv"

_SWAP_DURING_FIT = """\
from pathlib import Path
import training.fit as run
from training.cli import train_main

fit = run.load_dataset


def swap_then_fit(*args, **kwargs):
    config = Path("config.yaml")
    config.write_text(config.read_text(encoding="utf-8").replace("seed: 42", "seed: 7"), encoding="utf-8")
    dataset = Path("ml_datasource.csv")
    with dataset.open("a", encoding="utf-8") as handle:
        handle.write("US,1,1.0,1,0,0,0.00,0\\n")
    from pytest_repro.lineage.pins import pin_dataset
    pin_dataset(dataset)
    return fit(*args, **kwargs)


run.load_dataset = swap_then_fit
raise SystemExit(train_main(["--quiet"]))
"""


def _run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRO_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_files_swapped_during_the_fit_are_not_recorded_in_place_of_what_was_read(tmp_path: Path):
    project = write_small_project(tmp_path / "project")
    assert "seed: 42" in (project / "config.yaml").read_text(encoding="utf-8")
    config_read = (project / "config.yaml").read_bytes()
    dataset_read = (project / DATASET).read_bytes()

    result = _run(project, sys.executable, "-c", _SWAP_DURING_FIT)
    assert result.returncode == 0, result.stderr

    lineage = json.loads((project / "artifacts" / "lineage.json").read_text(encoding="utf-8"))
    assert lineage["inputs"]["config"]["sha256"] == sha256_bytes(config_read)
    assert lineage["inputs"]["dataset"]["sha256"] == sha256_bytes(dataset_read)
    assert sha256_bytes((project / "config.yaml").read_bytes()) != sha256_bytes(config_read)  # it was swapped
    metrics = json.loads((project / "artifacts" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["seed"] == 42 and metrics["data"]["rows"] == 600

    check = _run(project, sys.executable, str(ROOT / "scripts" / "reproducibility_check.py"))
    assert check.returncode == 1, check.stderr
    failed = sorted(line.split(":")[0] for line in check.stderr.splitlines() if line.startswith("FAILED "))
    assert failed == ["FAILED config", "FAILED dataset"], check.stderr

    # Put the files back as they were read: the lineage verifies, so it described those bytes.
    (project / "config.yaml").write_bytes(config_read)
    (project / DATASET).write_bytes(dataset_read)
    pin_dataset(project / DATASET)
    assert _run(project, sys.executable, str(ROOT / "scripts" / "reproducibility_check.py")).returncode == 0
