"""What a run's copy of the project costs: time and new disk per run, for this checkout and for 1 GiB of ignored data.

    python benchmarks/isolation_cost.py [--repeat 3] [--gib 1]

Each case builds (or uses) a project, then makes `--repeat` copies with the same
`copy_tree` every run uses, and prints the median time per copy, the new disk blocks a
copy takes (a shared file's blocks are the user's, not new), and, for scale, the time
`shutil.copytree` takes to copy the same tree whole (less virtual environments).  Times vary with the machine;
compare the two columns of one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pytest_repro.running.tree_copy import copy_tree

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 1024 * 1024
VENVS = shutil.ignore_patterns(".venv", ".venv-dvc")


def _new_bytes(copy: Path) -> int:
    """Disk blocks the copy added: files whose inode it holds alone (hard links are the user's)."""
    total = 0
    for folder, _, names in os.walk(copy):
        for name in names:
            status = os.lstat(os.path.join(folder, name))
            if status.st_nlink == 1:
                total += status.st_blocks * 512
    return total


def _data_project(folder: Path, gib: float) -> Path:
    """A git project with `gib` GiB of git-ignored data in 64 MiB files, and a small script."""
    project = folder / "project"
    (project / "data").mkdir(parents=True)
    (project / "train.py").write_text("print('train')\n")
    (project / ".gitignore").write_text("data/\n")
    block = os.urandom(CHUNK)
    files = max(1, round(gib * 1024 / 64))
    for index in range(files):
        with open(project / "data" / f"part-{index:03d}.bin", "wb") as handle:
            for _ in range(64):
                handle.write(block)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "data"], cwd=project, check=True
    )
    return project


def _measure(label: str, project: Path, scratch: Path, repeat: int) -> None:
    times, whole = [], []
    added = 0
    for index in range(repeat):
        started = time.perf_counter()
        copied = copy_tree(project, scratch / f"copy-{index}")
        times.append(time.perf_counter() - started)
        added = _new_bytes(copied.root)
        started = time.perf_counter()
        shutil.copytree(project, scratch / f"whole-{index}", symlinks=True, ignore=VENVS)
        whole.append(time.perf_counter() - started)
        shutil.rmtree(scratch / f"copy-{index}")
        shutil.rmtree(scratch / f"whole-{index}")
    print(
        f"| {label} | {statistics.median(times):.2f} s | {added / CHUNK:.1f} MiB | "
        f"{len(copied.shared)} | {statistics.median(whole):.2f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gib", type=float, default=1.0)
    args = parser.parse_args()
    print(
        "| project | copy per run (median) | new disk per run | files shared | shutil.copytree, for scale |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as temp:
        scratch = Path(temp)
        _measure("this checkout (the demo)", ROOT, scratch, args.repeat)
        project = _data_project(scratch / "data-project", args.gib)
        _measure(f"{args.gib:g} GiB of git-ignored data", project, scratch, args.repeat)


if __name__ == "__main__":
    main()
