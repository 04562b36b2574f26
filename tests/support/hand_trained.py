"""Small projects adopted with ini lines only, for `repro-run` and the tools that read its lineage.

- `script_project`: a git repository whose `src/train.py` (standard library only, so a
  run costs an interpreter's start) reads `data/train.csv` by a relative path, writes
  `models/model.txt` and `reports/metrics.json`, and sets its own seed; configured with
  `repro_command` and `repro_outputs`, the data folder and outputs git-ignored.
- `function_project`: the same training as a function (`trainfn:train`), reading the
  `config.yaml` it is given and the data it names, writing into its output folder.

`edit_one_row` changes one value of one data row, as a user editing the data would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

DATA = "x,y\n" + "".join(f"{i * 0.37 % 5:.3f},{int(i % 3 == 0)}\n" for i in range(60))

SCRIPT = """\
import json
import random
from pathlib import Path

random.seed(7)
rows = [line.split(",") for line in Path("data/train.csv").read_text().splitlines()[1:]]
weights = [round(float(x) * random.random(), 6) for x, _ in rows]
Path("models").mkdir(exist_ok=True)
Path("models/model.txt").write_text(" ".join(map(str, weights)) + "\\n")
Path("reports").mkdir(exist_ok=True)
metrics = {"positives": sum(int(y) for _, y in rows), "mean": sum(weights) / len(weights)}
Path("reports/metrics.json").write_text(json.dumps(metrics, sort_keys=True) + "\\n")
print(f"trained on {len(rows)} rows")
"""

SCRIPT_INI = """\
[tool.pytest.ini_options]
repro_command = "python src/train.py"
repro_outputs = ["models/*.txt", "reports/metrics.json"]
repro_metrics = "reports/metrics.json"
"""

FUNCTION = """\
import json
import random
from pathlib import Path


def train(config_path, output_dir, seed=None):
    settings = dict(line.split(": ") for line in Path(config_path).read_text().splitlines())
    rng = random.Random(int(settings["seed"]) if seed is None else seed)
    rows = [line.split(",") for line in Path(settings["data"]).read_text().splitlines()[1:]]
    weights = [round(float(x) * rng.random(), 6) for x, _ in rows]
    out = Path(output_dir)
    (out / "model.txt").write_text(" ".join(map(str, weights)) + "\\n")
    metrics = {"positives": sum(int(y) for _, y in rows)}
    (out / "metrics.json").write_text(json.dumps(metrics) + "\\n")
    return {"artifacts": {"model": "model.txt", "metrics": "metrics.json"}, "metrics": metrics}
"""

FUNCTION_INI = """\
[tool.pytest.ini_options]
repro_train = "trainfn:train"
"""


def script_project(root: Path, *, ini: str = SCRIPT_INI, script: str = SCRIPT) -> Path:
    """Write the script project into `root` (a git repository with one commit) and return `root`."""
    _write(
        root,
        {
            "src/train.py": script,
            "data/train.csv": DATA,
            ".gitignore": "data/\nmodels/\nreports/\nartifacts/\n",
            "pyproject.toml": ini,
        },
    )
    _commit(root)
    return root


def function_project(root: Path, *, ini: str = FUNCTION_INI) -> Path:
    """Write the function project into `root` (a git repository with one commit) and return `root`."""
    _write(
        root,
        {
            "trainfn.py": FUNCTION,
            "config.yaml": "seed: 5\ndata: data/train.csv\n",
            "data/train.csv": DATA,
            ".gitignore": "data/\nartifacts/\n__pycache__/\n",
            "pyproject.toml": ini,
        },
    )
    _commit(root)
    return root


def edit_one_row(path: Path) -> None:
    """Change the first value of the second data row, as a user editing a dataset would."""
    lines = path.read_text().splitlines(keepends=True)
    first, rest = lines[2].split(",", 1)
    lines[2] = f"{float(first) + 1:.3f},{rest}"
    path.write_text("".join(lines))


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _commit(root: Path) -> None:
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True, timeout=60)
