"""How much longer does `pytest --repro -m repro` take than one `python -m training`?

The naive twin check (train, then train again) costs 2x.  The plugin runs both
trainings at once in separate processes with one BLAS/OpenMP thread each, so on a
machine with two or more cores it should cost little more than one training.  The
target is a ratio of at most 1.25, measured in one run on one machine (both timings
share whatever else the machine is doing), never asserted in a test.

Usage: python benchmarks/twin_overhead.py [--config config.yaml] [--repeat 1]
Writes benchmarks/results/twin_overhead.md and prints the table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe_machine

from pytest_repro.running.launcher import THREAD_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.25


def timed(command: list[str], cwd: Path, transcript: Path | None = None) -> float:
    """Run a command to completion and return its wall time; a failure stops the benchmark."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if transcript is not None:
        transcript.write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        sys.exit(
            f"benchmark command failed ({result.returncode}): {' '.join(command)}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return seconds


def two_trainings_at_once(config: str) -> float:
    """Time two bare trainings started together, one BLAS thread each: the machine's own floor.

    Whatever this costs above one training is the hardware sharing its cores, caches and
    memory bandwidth, not the plugin.
    """
    env = {**os.environ, **{name: "1" for name in THREAD_VARIABLES}}
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        started = time.perf_counter()
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "training", "--config", config, "--output-dir", out, "--quiet"],
                cwd=ROOT,
                env=env,
            )
            for out in (first, second)
        ]
        if any(run.wait() != 0 for run in runs):
            sys.exit("benchmark: a bare training failed")
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument(
        "--repeat", type=int, default=1, help="alternate the two measurements this many times"
    )
    args = parser.parse_args()
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    single, floor, twins = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            single.append(
                timed(
                    [
                        sys.executable,
                        "-m",
                        "training",
                        "--config",
                        args.config,
                        "--output-dir",
                        out,
                        "--quiet",
                    ],
                    ROOT,
                )
            )
        floor.append(two_trainings_at_once(args.config))
        twins.append(
            timed(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "--repro",
                    "-m",
                    "repro",
                    "-p",
                    "no:cacheprovider",
                    "--repro-config",
                    args.config,
                ],
                ROOT,
                transcript=results / "twin_run.txt",
            )
        )
    best_single, best_floor, best_twins = min(single), min(floor), min(twins)
    ratio = best_twins / best_single
    verdict = "meets" if ratio <= TARGET else "misses"
    table = "\n".join(
        [
            "| measurement | wall time (s) |",
            "|---|---|",
            f"| one `python -m training` | {best_single:.1f} |",
            f"| two bare trainings started together (the machine's floor) | {best_floor:.1f} "
            f"({best_floor / best_single:.2f}×) |",
            f"| `pytest --repro -m repro` (two trainings + checks) | {best_twins:.1f} |",
            f"| ratio (target ≤ {TARGET}) | **{ratio:.2f}** ({verdict} the target) |",
            f"| the plugin's own share (pytest vs the floor) | {best_twins / best_floor:.2f}× |",
            "",
            f"Machine: {describe_machine()}; config `{args.config}`; best of {args.repeat}.",
        ]
    )
    (results / "twin_overhead.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
