"""Measure `pytest_repro.lineage.hashing.sha256_file` against `hashlib.file_digest` and a read-it-all hash.

Usage::

    python benchmarks/hashing.py [--size-mib 1024] [--runs 3]

A file of random bytes (1 GiB by default) is written in chunks to a temporary folder
and deleted afterwards.  Each method hashes it in a fresh subprocess, so the peak
resident memory reported (`ru_maxrss`, KiB on Linux) belongs to that method alone;
each method runs `--runs` times, interleaved, and the best throughput counts.  The
file is read from the page cache after the first run, so this measures hashing and
copying, not the disk.  Results are ratios within one run on one machine: the table
(method | MiB/s | ratio to file_digest | peak RSS MiB) and a description of the machine
are printed and written to benchmarks/results/hashing.md.

Targets: ours at least 0.9x file_digest's throughput, and under 64 MiB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "hashing.md"
WRITE_CHUNK = 16 << 20

# Each snippet hashes sys.argv[1] and prints seconds, peak RSS and the digest as JSON.
_TIMED = """
import json, resource, sys, time
path = sys.argv[1]
{setup}
start = time.perf_counter()
digest = {expression}
seconds = time.perf_counter() - start
rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "rss_kib": rss_kib, "digest": digest}}))
"""

METHODS = {
    "pytest_repro.lineage.hashing.sha256_file (ours)": (
        "from pytest_repro.lineage.hashing import sha256_file",
        "sha256_file(path)",
    ),
    "hashlib.file_digest (reference)": (
        "import hashlib",
        "hashlib.file_digest(open(path, 'rb'), 'sha256').hexdigest()",
    ),
    "read whole file, then hash (design sample)": (
        "import hashlib",
        "hashlib.sha256(open(path, 'rb').read()).hexdigest()",
    ),
}
OURS, REFERENCE, _ = METHODS


_WRITE = """
import os, sys
size, chunk = int(sys.argv[2]), int(sys.argv[3])
with open(sys.argv[1], "wb") as handle:
    while size:
        data = os.urandom(min(chunk, size))
        handle.write(data)
        size -= len(data)
"""


def write_random_file(path: Path, size: int) -> None:
    """Write `size` random bytes in chunks, in a child process.

    Linux carries a process's peak RSS across fork and exec into the child's
    `ru_maxrss`, so this launcher never holds a large buffer itself: the children's
    figures are then their own.
    """
    subprocess.run([sys.executable, "-c", _WRITE, str(path), str(size), str(WRITE_CHUNK)], check=True)


def run_method(name: str, path: Path) -> dict:
    return run_snippet(*METHODS[name], path)


def run_snippet(setup: str, expression: str, path: Path) -> dict:
    code = _TIMED.format(setup=setup, expression=expression)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(result.stdout)


def machine() -> str:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return (
        f"CPU {cpu}, {os.cpu_count()} logical cores (load average at the end: {load}); "
        f"Python {platform.python_version()} ({platform.python_implementation()}); {platform.platform()}"
    )


def table(best: dict[str, dict]) -> str:
    reference = best[REFERENCE]["mib_s"]
    rows = [
        "| method | MiB/s | ratio to file_digest | peak RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for name, result in best.items():
        rows.append(
            f"| {name} | {result['mib_s']:.0f} | {result['mib_s'] / reference:.2f} | "
            f"{result['rss_mib']:.1f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="file size in MiB (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="runs per method; the best counts (default: 3)")
    args = parser.parse_args(argv)
    size = args.size_mib << 20

    runs: dict[str, list[dict]] = {name: [] for name in METHODS}
    with tempfile.TemporaryDirectory(prefix="hash-bench-") as folder:
        path = Path(folder) / "random.bin"
        write_random_file(path, size)
        for _ in range(args.runs):
            for name in METHODS:  # interleaved, so a slow moment of the machine hits every method
                runs[name].append(run_method(name, path))
        idle = run_snippet("import json, resource", "None", path)["rss_kib"] / 1024
    digests = {result["digest"] for results in runs.values() for result in results}
    if len(digests) != 1:
        print(f"error: the methods disagree on the digest: {sorted(digests)}", file=sys.stderr)
        return 1

    best = {}
    for name, results in runs.items():
        fastest = min(results, key=lambda r: r["seconds"])
        best[name] = {
            "mib_s": (size / (1 << 20)) / fastest["seconds"],
            "rss_mib": max(r["rss_kib"] for r in results) / 1024,
        }
    ours, reference = best[OURS], best[REFERENCE]
    ratio = ours["mib_s"] / reference["mib_s"]
    verdict = (
        f"ours: {ratio:.2f}x file_digest (target ≥ 0.9x: {'met' if ratio >= 0.9 else 'NOT met'}), "
        f"peak {ours['rss_mib']:.1f} MiB (target < 64 MiB: {'met' if ours['rss_mib'] < 64 else 'NOT met'})"
    )
    report = "\n".join(
        [
            "# Hashing benchmark",
            "",
            f"{args.size_mib} MiB of random bytes, best of {args.runs} runs per method, each run in a fresh "
            "process (peak RSS is `ru_maxrss` of the whole process, interpreter included: "
            f"a child that hashes nothing peaks at {idle:.1f} MiB). "
            f"`pytest_repro.lineage.hashing.CHUNK_SIZE` = {_chunk_size()} bytes.",
            "",
            table(best),
            "",
            verdict,
            "",
            f"Machine: {machine()}",
            "",
        ]
    )
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


def _chunk_size() -> int:
    sys.path.insert(0, str(ROOT))
    from pytest_repro.lineage.hashing import CHUNK_SIZE

    return CHUNK_SIZE


if __name__ == "__main__":
    raise SystemExit(main())
