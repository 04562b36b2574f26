"""What the run recorder and the write guard cost a training: the demo, with and without them.

    python benchmarks/recorder_overhead.py [--repeat 3] [--jobs 1]

Alternates, `--repeat` times, `python -m training --jobs N` into a scratch folder
(a) as it is and (b) with the run's start-up folder (pytest_repro/running/run_site)
first on PYTHONPATH, `REPRO_RECORD` and `REPRO_GUARD` set, so that every Python process
of the training (its fold workers included) records and is guarded exactly as in a
`pytest --repro` run.  Prints min/median/max of each and the ratio of the medians,
and checks that both wrote the same model bytes.  Times are never asserted in a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe_machine, load_average

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "pytest_repro" / "running" / "run_site"


def recorded_environment(project: Path, record: Path, env: Mapping[str, str]) -> dict[str, str]:
    """What a training's environment gains to be recorded and guarded as in a `pytest --repro` run.

    The run site comes first on PYTHONPATH, so that every Python process of the training
    (its fold workers included) starts it; its events go to the folder `record` (made
    here), its guard's settings beside it, and the guard refuses writes into the project's `training` package.
    """
    record.mkdir(parents=True)
    guard = record.parent / f"{record.name}-guard.json"
    guard.write_text(json.dumps({"protected": [str(project / "training")], "allowed": [], "shared": []}))
    path = env.get("PYTHONPATH", "")
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(project / SITE.relative_to(ROOT)), path])),
        "REPRO_RECORD": str(record),
        "REPRO_GUARD": str(guard),
    }


def _train(output: Path, jobs: int, extra_env: dict[str, str]) -> tuple[float, str]:
    env = {**os.environ, **extra_env}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "training", "--jobs", str(jobs), "--output-dir", str(output)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    model = hashlib.sha256((output / "best_model.joblib").read_bytes()).hexdigest()
    return seconds, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"plain": [], "recorded": []}
    models: set[str] = set()
    events = 0
    with tempfile.TemporaryDirectory(dir=ROOT / "artifacts") as scratch:
        folder = Path(scratch)
        for index in range(args.repeat):
            for kind in ("plain", "recorded") if index % 2 == 0 else ("recorded", "plain"):
                output = folder / f"{kind}-{index}"
                extra: dict[str, str] = {}
                if kind == "recorded":
                    record = folder / f"record-{index}"
                    extra = recorded_environment(ROOT, record, os.environ)
                seconds, model = _train(output, args.jobs, extra)
                times[kind].append(seconds)
                models.add(model)
                if kind == "recorded":
                    events = sum(
                        len(found)
                        for log in record.glob("*.json")
                        for found in json.loads(log.read_text())["events"].values()
                    )
    plain, recorded = statistics.median(times["plain"]), statistics.median(times["recorded"])
    print(describe_machine())
    print(f"load average at the end: {load_average()}")
    print("| training | min | median | max |")
    print("|---|---|---|---|")
    for kind in ("plain", "recorded"):
        values = times[kind]
        print(f"| {kind} | {min(values):.1f} s | {statistics.median(values):.1f} s | {max(values):.1f} s |")
    print(f"recorded / plain (medians): {recorded / plain:.3f}; distinct events in the last log: {events}")
    print(f"same model bytes: {len(models) == 1}")


if __name__ == "__main__":
    main()
