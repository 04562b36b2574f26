"""One small model trained two ways, as repositories do: a script run by a command, or a function.

The project is a git repository whose `data/` is git-ignored: `src/train.py` runs at
import time, reads `data/train.csv` by a relative path, and writes `models/centroids.json`
and a metrics file under `reports/`; `src/pipeline.py` trains the same nearest-centroid
model as a function of pytest-repro's contract.  Standard library only, so a twin run
costs an interpreter start, and a test can plant exactly one thing: noise in a metric,
a crash, a metrics file format, a seed from the command line.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

DATA = "x1,x2,label\n" + "".join(
    f"{i % 7 / 7:.3f},{(i * 3) % 11 / 11:.3f},{int(i % 7 > 3)}\n" for i in range(60)
)
MODEL = "models/centroids.json"

_TRAINING = '''\
import json
import random
from pathlib import Path


def fit(seed, root=Path(".")):
    """Nearest centroids of data/train.csv under `root`, and their accuracy on it."""
    rows = [line.split(",") for line in (root / "data" / "train.csv").read_text().splitlines()[1:]]
    points = [([float(a), float(b)], int(label)) for a, b, label in rows]
    random.Random(seed).shuffle(points)
    centroids = {}
    for label in (0, 1):
        members = [x for x, y in points if y == label]
        centroids[str(label)] = [round(sum(column) / len(members), 6) for column in zip(*members, strict=True)]

    def predict(x):
        return min(centroids, key=lambda c: sum((a - b) ** 2 for a, b in zip(x, centroids[c], strict=True)))

    accuracy = sum(predict(x) == str(y) for x, y in points) / len(points)
    model = {"centroids": centroids, "first_shuffled": points[0][0]}  # the seed shows in the model
    return model, {"accuracy": accuracy, "f1": round(accuracy * 0.9, 6) + NOISE}
'''

_SCRIPT = '''\
"""Train at import time, as scripts do: relative paths, seed from --seed or fixed."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from model import fit, save  # noqa: E402

seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 42
print("loading data/train.csv", flush=True)
CRASH
centroids, metrics = fit(seed)
save(centroids, metrics, Path("."), "METRICS")
print(f"accuracy {metrics['accuracy']:.4f}")
'''

_SAVE = '''

def save(centroids, metrics, folder, metrics_name):
    """Write the model and the metrics file in the format its name says (and the metadata, when asked)."""
    (folder / "models").mkdir(exist_ok=True)
    if METADATA:
        import time

        (folder / "reports").mkdir(exist_ok=True)
        stamp = {"created_at": time.time(), "model": "centroids", "classes": sorted(centroids)}
        (folder / "reports" / "metadata.json").write_text(json.dumps(stamp, sort_keys=True))
    (folder / "models" / "centroids.json").write_text(json.dumps(centroids, sort_keys=True))
    (folder / "reports").mkdir(exist_ok=True)
    path = folder / "reports" / metrics_name
    if path.suffix == ".json":
        path.write_text(json.dumps(metrics, sort_keys=True))
    elif path.suffix == ".yaml":
        path.write_text("".join(f"{key}: {value!r}\\n" for key, value in sorted(metrics.items())))
    elif path.name.endswith("wide.csv"):
        path.write_text(",".join(sorted(metrics)) + "\\n" + ",".join(repr(metrics[k]) for k in sorted(metrics)) + "\\n")
    else:
        path.write_text("metric,value\\n" + "".join(f"{k},{metrics[k]!r}\\n" for k in sorted(metrics)))
'''

_FUNCTION = '''\
"""The same training as a function of pytest-repro's contract."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from model import fit, save  # noqa: E402


def train(config_path, output_dir, seed=None):
    print("loading data/train.csv", flush=True)
    CRASH
    # A function finds its data beside its code, not in the working directory.
    centroids, metrics = fit(42 if seed is None else seed, Path(__file__).resolve().parents[1])
    out = Path(output_dir)
    save(centroids, metrics, out, "METRICS")
    artifacts = {"models/centroids.json": "models/centroids.json", "reports/METRICS": "reports/METRICS"}
    if (out / "reports" / "metadata.json").is_file():
        artifacts["reports/metadata.json"] = "reports/metadata.json"
    return {"artifacts": artifacts, RETURNED}
'''


def script_project(
    root: Path,
    ini: str,
    *,
    noise: str = "0.0",
    metrics: str = "metrics.json",
    crash: bool = False,
    function_returns_metrics: bool = True,
    metadata: bool = False,
) -> Path:
    """Write and commit the project in `root` with `ini` as its pytest settings.

    `noise` is added to the f1 metric (`random.random()` makes the runs differ in the
    metrics file alone); `metrics` names the metrics file under `reports/` (its extension
    picks the format; `*wide.csv` is one header row and one row of values); `crash` makes
    both kinds of training raise after their first line of output; `metadata` makes both
    write `reports/metadata.json` whose `created_at` is the wall clock (volatile by design).
    """
    raise_line = 'raise RuntimeError("data/train.csv: no column named age")' if crash else ""
    files = {
        "src/model.py": _TRAINING.replace("NOISE", noise) + _SAVE.replace("METADATA", str(metadata)),
        "src/train.py": _SCRIPT.replace("METRICS", metrics).replace("CRASH", raise_line),
        "src/pipeline.py": _FUNCTION.replace("METRICS", metrics)
        .replace("    CRASH", f"    {raise_line}")
        .replace("RETURNED", '"metrics": metrics' if function_returns_metrics else ""),
        "data/train.csv": DATA,
        ".gitignore": "data/\nmodels/\nreports/\n__pycache__/\n",
        "pyproject.toml": "[tool.pytest.ini_options]\n" + ini,
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "a script training"],
    ):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    return root


def command_ini(outputs: tuple[str, ...] = (MODEL, "reports/metrics.json"), **settings: str) -> str:
    """The ini lines of the command training: `python src/train.py`, its outputs and any other setting."""
    lines = ['repro_command = "python src/train.py"', f"repro_outputs = {json.dumps(list(outputs))}"]
    lines += [f"{name} = {json.dumps(value)}" for name, value in settings.items()]
    return "\n".join(lines) + "\n"


def function_ini(**settings: str) -> str:
    """The ini lines of the function training: `pipeline:train`, importable from `src/`."""
    lines = ['repro_train = "pipeline:train"', 'pythonpath = ["src"]']
    lines += [f"{name} = {json.dumps(value)}" for name, value in settings.items()]
    return "\n".join(lines) + "\n"
