"""A project that is not shaped like the demo writes its own lineage through the public API.

Its outputs are called `weights` and `report` (no `model`, no `threshold`), its data
lives in `data/`, its manifest in `out/`.  Every lineage consumer must accept it: the
plugin's `lineage[run-a]`, `replay` and on-disk `verify` items, `repro-check`,
`repro-hook lineage` and `repro-export`, each through its real command line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TRAIN = '''\
"""Train "weights" from data/train.csv and write a report; record both in a lineage."""
import json
import random
import sys
from pathlib import Path

import yaml

from pytest_repro.lineage import write_lineage


def train_for_repro(config_path, output_dir, seed=None):
    config_path, out = Path(config_path), Path(output_dir)
    config = yaml.safe_load(config_path.read_text())
    seed = config["seed"] if seed is None else seed
    data = config_path.parent / "data" / "train.csv"
    rows = data.read_text().splitlines()[1:]
    rng = random.Random(seed)
    weights = bytes(rng.randrange(256) for _ in range(64 * len(rows)))
    (out / "weights.bin").write_bytes(weights)
    (out / "report.json").write_text(json.dumps({"rows": len(rows), "seed": seed}, sort_keys=True))
    folds = [[i for i in range(len(rows)) if i % 2 == k] for k in range(2)]
    write_lineage(
        out / "lineage.json",
        inputs={"config": config_path, "training data": data},
        outputs={"weights": out / "weights.bin", "report": out / "report.json"},
        seed=seed,
        folds=folds,
    )
    return {
        "artifacts": {"weights": "weights.bin", "report": "report.json"},
        "folds": folds,
        "metrics": {"rows": len(rows)},
        "lineage": "lineage.json",
    }


if __name__ == "__main__":
    out = Path("out")
    out.mkdir(exist_ok=True)
    train_for_repro("config.yaml", out)
    sys.exit(0)
'''

PYPROJECT = """\
[tool.pytest.ini_options]
repro_train = "weightlab.train:train_for_repro"
repro_lineage = "out/lineage.json"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    """A trained foreign project: its own package, its data folder, its manifest in out/."""
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.makefile(".yaml", config="seed: 5\n")
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "train.csv").write_text("x,y\n1,0\n2,1\n3,0\n4,1\n")
    (pytester.path / "weightlab").mkdir()
    (pytester.path / "weightlab" / "__init__.py").write_text("")
    (pytester.path / "weightlab" / "train.py").write_text(TRAIN)
    _run(pytester.path, sys.executable, "-m", "weightlab.train")
    return pytester.path


def _run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_its_lineage_has_its_own_names_and_no_demo_entry(project: Path):
    lineage = json.loads((project / "out" / "lineage.json").read_text())
    assert sorted(lineage["inputs"]) == ["config", "training data"]
    assert sorted(lineage["outputs"]) == ["report", "weights"]
    assert "model" not in lineage and "threshold" not in lineage and "dataset" not in lineage


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
def test_plugin_lineage_items_and_replay_pass(project: Path, pytester: pytest.Pytester):
    result = pytester.runpytest("--repro", "-p", "no:randomly", "-rs")
    result.stdout.fnmatch_lines(
        [
            "*lineage?run-a?*verified (4 files, unsigned)*",
            "*replay*reproduced (recorded vs fresh outputs)*",
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("error", 0) == 0, result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


def test_on_disk_verify_item_names_a_changed_output(project: Path, pytester: pytest.Pytester):
    assert pytester.runpytest("-m", "lineage").ret == pytest.ExitCode.OK
    (project / "out" / "report.json").write_text("{}")
    failed = pytester.runpytest("-m", "lineage")
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    failed.stdout.fnmatch_lines(["*report: out/report.json: SHA-256 is *"])


def test_a_root_that_does_not_hold_every_file_is_refused(tmp_path: Path):
    from pytest_repro.errors import ArtifactError
    from pytest_repro.lineage import write_lineage

    (tmp_path / "project").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "weights.bin").write_bytes(b"w")
    with pytest.raises(ArtifactError, match=r"weights\.bin: lineage entry 'weights' lies outside the root"):
        write_lineage(
            tmp_path / "project" / "lineage.json",
            inputs={},
            outputs={"weights": tmp_path / "elsewhere" / "weights.bin"},
            root=tmp_path / "project",
            signing_key=None,
        )
    assert not (tmp_path / "project" / "lineage.json").exists()


def test_command_lines_accept_it(project: Path):
    lineage = "out/lineage.json"
    check = _run(project, _script("repro-check"), "--lineage", lineage, "--no-report")
    assert json.loads(check.stdout)["passed"] is True
    hook = _run(project, _script("repro-hook"), "lineage", "--lineage", lineage)
    assert "all 4 files match out/lineage.json" in hook.stdout
    sums = _run(project, _script("repro-export"), "sha256sums", "--lineage", lineage)
    assert "out/weights.bin" in sums.stdout and "data/train.csv" in sums.stdout
    statement = json.loads(_run(project, _script("repro-export"), "intoto", "--lineage", lineage).stdout)
    assert sorted(s["name"] for s in statement["subject"]) == ["out/report.json", "out/weights.bin"]
    assert statement["predicate"]["buildDefinition"]["externalParameters"]["config"]["content"] == {"seed": 5}


def test_twin_lineages_that_differ_beyond_their_paths_fail_naming_the_field(pytester: pytest.Pytester):
    pytester.makefile(".toml", pyproject='[tool.pytest.ini_options]\nrepro_train = "pidtrain:train"\n')
    pytester.makefile(".yaml", config="seed: 1\n")
    pytester.makepyfile(
        pidtrain="""
import os
from pathlib import Path
from pytest_repro.lineage import write_lineage

def train(config_path, output_dir, seed=None):
    out = Path(output_dir)
    (out / "weights.bin").write_bytes(b"same bytes")
    write_lineage(out / "lineage.json", inputs={"config": config_path},
                  outputs={"weights": out / "weights.bin"}, environment={"pid": os.getpid()})
    return {"artifacts": {"weights": "weights.bin"}, "lineage": "lineage.json"}
"""
    )
    result = pytester.runpytest("--repro", "-p", "no:randomly", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*_ repro lineage?run-b? _*", "the twins' lineages differ (paths aside):", "*/environment/pid*"]
    )
    # No metrics returned: the metrics check is skipped, never "equal" on two empty mappings.
    result.assert_outcomes(passed=3, failed=1, skipped=4, warnings=1)
