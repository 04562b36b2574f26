"""What proving reproducibility costs: a full `pytest --repro`, the CI gate, and a session that does not ask.

One command measures every row of issue 24's table in one run, alternating the
compared commands round by round so that each ratio is taken between measurements
that shared whatever else the machine was doing, and writes the README's table
between its markers (`<!-- performance:start -->`, `<!-- performance:end -->`):

1. `pytest --repro -m "repro or repro_probe"` (the twins and the seed probe, as a
   plain `pytest --repro` runs them) ÷ one `python -m training --jobs 1` measured in
   the same round;
2. the README's CI gate, `python -m training`, `python scripts/reproducibility_check.py`,
   `pytest --repro --repro-against artifacts/lineage.json -m "repro or lineage"`, in
   units of its own first step (one training); and the gate as it was before, with
   twins (`pytest --repro -m "repro or lineage"`), for comparison;
3. `python -m pytest --collect-only -q` with the plugin vs `-p no:repro`, 40
   alternating pairs (the median of their differences), in a project that does not
   configure the plugin and in one that configures a function training (whose module
   imports scikit-learn), each again with CPython's garbage collector off and with the
   full collections counted (a small session's few thousand more objects can bring one
   full collection forward: tens of milliseconds that are the collector's threshold,
   not the plugin's work); in this checkout (the demo's function training, its whole
   test suite), 10 pairs; and the time `python -X importtime` gives for importing the
   plugin module.

Rows 1 and 2 run in a copy of this checkout (a git repository, so that lineages
record a commit as in CI), so the gate's `artifacts/` never replace yours.  Every
command runs with Python's bytecode cache on (PYTHONDONTWRITEBYTECODE removed), as on
a developer's machine and in CI, and with a `TMPDIR` of the benchmark's own (see
`private_temporary_folder`); if OPENBLAS_CORETYPE is set it is removed with
OPENBLAS_L2_SIZE for these commands alone, and the BLAS kernel they ran is reported.
A row's ratio is the median over rounds, with its min and max.  The run recorder's
overhead is measured in the same rounds: a `--jobs 1` training recorded and guarded as in
a `pytest --repro` run, ÷ the round's plain one (`benchmarks/recorder_overhead.py`, which
also compares the model bytes, measures it alone).

Usage: python benchmarks/performance.py [--rounds N] [--pairs N] [--no-readme]
Writes benchmarks/results/performance.json and performance.md.  Times are never
asserted in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe_machine, load_average
from recorder_overhead import recorded_environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
MARKERS = ("<!-- performance:start -->", "<!-- performance:end -->")
TARGETS = {"full": 1.6, "gate": 2.1, "load_ms": 20.0}
# Set by the harness of some machines; the benchmark runs as a user's shell would.
DROPPED = ("PYTHONDONTWRITEBYTECODE", "REPRO_WORKERS")
KERNEL_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
GATE = (
    ("python", "-m", "training"),
    ("python", "scripts/reproducibility_check.py"),
)
AGAINST_GATE = ("--repro", "--repro-against", "artifacts/lineage.json", "-m", "repro or lineage")
TWIN_GATE = ("--repro", "-m", "repro or lineage")
FUNCTION_TRAINING = '''\
"""A function training whose module imports scikit-learn: a plain session must not import it."""

import json
from pathlib import Path

from sklearn.linear_model import LogisticRegression


def train(config_path, output_dir, seed=None):
    model = LogisticRegression(random_state=seed).fit([[0.0], [1.0]], [0, 1])
    out = Path(output_dir) / "metrics.json"
    out.write_text(json.dumps({"coef": float(model.coef_[0][0])}))
    return {"artifacts": {"metrics": str(out)}, "metrics": {}}
'''


def environment() -> dict[str, str]:
    """This process's environment as a user's shell has it (see the module docstring)."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    if "OPENBLAS_CORETYPE" in env:
        for name in KERNEL_VARIABLES:
            env.pop(name, None)
    return env


def private_temporary_folder(env: dict[str, str], folder: Path) -> dict[str, str]:
    """`env` with a `TMPDIR` of the benchmark's own, empty to start with.

    A pytest session ends by deleting the older sessions' temporary folders beyond the
    newest three, inside its own time. In the system's temporary folder, a measured round
    would pay for deleting folders that earlier sessions left (this checkout's slow test
    run leaves 3 GB in 400,000 files, 36 s to delete).
    """
    folder.mkdir()
    return {**env, "TMPDIR": str(folder)}


def blas_kernels(env: dict[str, str]) -> str:
    """The BLAS libraries and kernels numpy loads with `env`, as threadpoolctl names them."""
    code = (
        "import json, numpy, threadpoolctl; print(json.dumps([(p.get('internal_api'), p.get('architecture')) "
        "for p in threadpoolctl.threadpool_info() if p.get('user_api') == 'blas']))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        return "unknown (numpy or threadpoolctl missing)"
    return ", ".join(f"{api} {arch}" for api, arch in json.loads(result.stdout)) or "none loaded"


def run(command: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run a command to completion; return its wall and CPU seconds (its own and its children's)."""
    words = [sys.executable if word == "python" else word for word in command]
    started = time.perf_counter()
    process = subprocess.Popen(words, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # reaped here, for its resource usage
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        text = output.decode(errors="replace")[-4000:]
        sys.exit(f"benchmark command failed ({process.returncode}): {' '.join(command)}\n{text}")
    return wall, usage.ru_utime + usage.ru_stime


def pytest_command(*args: str) -> tuple[str, ...]:
    return ("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *args)


def checkout_copy(folder: Path) -> Path:
    """This checkout's files (tracked and untracked, not ignored) in `folder`, committed in a fresh repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git = ["git", "-c", "user.name=benchmark", "-c", "user.email=benchmark@localhost"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "benchmark copy"]):
        subprocess.run([*git, *command], cwd=folder, check=True)
    # Every module's bytecode cached up front, as in a checkout that has been used: the runs
    # themselves write no bytecode cache, so without this each would compile the project's modules.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True)
    return folder


def gate(project: Path, env: dict[str, str], pytest_args: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The CI gate: train, check, pytest; the (wall, CPU) seconds of its training step and of the whole."""
    shutil.rmtree(project / "artifacts", ignore_errors=True)
    (project / "artifacts").mkdir()
    steps = [
        run(GATE[0], project, env),
        run(GATE[1], project, env),
        run(pytest_command(*pytest_args), project, env),
    ]
    return {"training": steps[0], "total": (sum(s[0] for s in steps), sum(s[1] for s in steps))}


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def session_rows(project: Path, env: dict[str, str], rounds: int) -> dict[str, Any]:
    """Rows 1 and 2, alternating every command within each round; ratios of wall and of CPU seconds."""
    measured: dict[str, list[Any]] = {"single": [], "recorded": [], "full": [], "gate": [], "twin_gate": []}
    single = ("python", "-m", "training", "--jobs", "1", "--quiet")
    recorded = (*single, "--output-dir", "artifacts/recorded")

    def record(number: int) -> tuple[float, float]:
        extra = recorded_environment(project, project.parent / f"record-{number}", env)
        return run(recorded, project, {**env, **extra})

    steps: list[tuple[str, Callable[[int], Any]]] = [
        ("single", lambda number: run(single, project, env)),
        ("recorded", record),
        ("full", lambda number: run(pytest_command("--repro", "-m", "repro or repro_probe"), project, env)),
        ("gate", lambda number: gate(project, env, AGAINST_GATE)),
        ("twin_gate", lambda number: gate(project, env, TWIN_GATE)),
    ]
    for number in range(1, rounds + 1):
        for name, measure in steps:
            measured[name].append(measure(number))
            print(f"  round {number}: {name} done", flush=True)
    ratios: dict[str, Any] = {}
    for index, clock in enumerate(("wall", "cpu")):
        ratios[clock] = {
            **{
                name: spread(
                    [f[index] / s[index] for f, s in zip(measured[name], measured["single"], strict=True)]
                )
                for name in ("full", "recorded")
            },
            **{
                name: spread([g["total"][index] / g["training"][index] for g in measured[name]])
                for name in ("gate", "twin_gate")
            },
        }
    return {
        "seconds": {
            "single": spread([wall for wall, _ in measured["single"]]),
            "recorded": spread([wall for wall, _ in measured["recorded"]]),
            "full": spread([wall for wall, _ in measured["full"]]),
            "training": spread([g["training"][0] for g in measured["gate"]]),
            "gate": spread([g["total"][0] for g in measured["gate"]]),
            "twin_gate": spread([g["total"][0] for g in measured["twin_gate"]]),
        },
        "ratios": ratios["wall"],
        "cpu_ratios": ratios["cpu"],
    }


def load_project(folder: Path, *, training: bool) -> Path:
    """A small project with one test file; with `training`, it configures a function training."""
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    ini = "[tool.pytest.ini_options]\n"
    if training:
        (folder / "train.py").write_text(FUNCTION_TRAINING)
        (folder / "config.yaml").write_text("seed: 3\n")
        ini += 'repro_train = "train:train"\npythonpath = ["."]\n'
    (folder / "pyproject.toml").write_text(ini)
    return folder


NO_PLUGIN = ("-p", "no:repro")
# pytest with CPython's cyclic garbage collector off: what the plugin's own work costs, without
# the full collections its allocations may bring forward (see `load_row`).
COLLECTOR_OFF = (
    "python",
    "-c",
    "import gc, sys; gc.disable(); import pytest; sys.argv[0] = 'pytest'; raise SystemExit(pytest.console_main())",
)
# pytest counting the full (generation 2) collections it ran, printed last on stderr.
FULL_COLLECTIONS = (
    "python",
    "-c",
    "import atexit, gc, sys; atexit.register(lambda: print('full collections:', gc.get_stats()[2]['collections'],"
    " file=sys.stderr)); import pytest; sys.argv[0] = 'pytest'; raise SystemExit(pytest.console_main())",
)


def load_row(project: Path, env: dict[str, str], pairs: int, *, collector_off: bool = True) -> dict[str, Any]:
    """`pytest --collect-only -q` with and without the plugin, alternating; medians and paired differences.

    With `collector_off`, the same pairs again with the garbage collector disabled, and the
    full collections each session ran: in a small session, the plugin's few thousand
    objects can bring forward one full collection of pytest's and its plugins' objects
    (tens of milliseconds), a step that says more about CPython's thresholds than about
    the plugin's work.
    """
    row = _paired(project, env, pairs, ("python", "-m", "pytest"))
    if collector_off:
        off = _paired(project, env, pairs, COLLECTOR_OFF)
        row["collector_off_ms"] = off["added_ms"]
        row["collector_off_pairs_ms"] = off["pair_differences_ms"]
        row["full_collections"] = {
            name: _full_collections(project, env, args)
            for name, args in (("with", ()), ("without", NO_PLUGIN))
        }
    return row


def _paired(project: Path, env: dict[str, str], pairs: int, launcher: Sequence[str]) -> dict[str, Any]:
    arguments = ("-p", "no:cacheprovider", "-q", "--collect-only")
    with_plugin, without = (*launcher, *arguments), (*launcher, *arguments, *NO_PLUGIN)
    run(with_plugin, project, env)  # fill the bytecode caches before anything is timed
    run(without, project, env)
    samples: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
    for _ in range(pairs):
        samples["with"].append(run(with_plugin, project, env))
        samples["without"].append(run(without, project, env))
    differences = [1000 * (a[0] - b[0]) for a, b in zip(samples["with"], samples["without"], strict=True)]
    median = {name: statistics.median(wall for wall, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(cpu for _, cpu in values) for name, values in samples.items()}
    return {
        "with": median["with"],
        "without": median["without"],
        "added_ms": statistics.median(differences),
        "added_cpu_ms": 1000 * (cpu["with"] - cpu["without"]),
        "pair_differences_ms": spread(differences),
    }


def _full_collections(project: Path, env: dict[str, str], plugin: Sequence[str]) -> int:
    command = [sys.executable if w == "python" else w for w in FULL_COLLECTIONS]
    result = subprocess.run(
        [*command, "-p", "no:cacheprovider", "-q", "--collect-only", *plugin],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    return int(result.stderr.strip().splitlines()[-1].split()[-1])


def plugin_import(env: dict[str, str], runs: int) -> dict[str, float]:
    """Milliseconds to import `pytest_repro.plugin` after pytest, as `-X importtime` reports it, over `runs`."""
    code = "import pytest, _pytest.pytester; import pytest_repro.plugin"
    found = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        line = next(line for line in result.stderr.splitlines() if line.endswith("| pytest_repro.plugin"))
        found.append(int(line.split("|")[1]) / 1000)
    return spread(found)


def _ratio(value: dict[str, float], unit: str = "×") -> str:
    return f"**{value['median']:.2f}{unit}** ({value['min']:.2f}–{value['max']:.2f})"


def _verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "misses"


def markdown(result: dict[str, Any]) -> str:
    """The README's table: every row of the issue, as measured in this run."""
    seconds, ratios = result["sessions"]["seconds"], result["sessions"]["ratios"]
    cpu = result["sessions"]["cpu_ratios"]
    load = result["load"]
    rows = [
        "| figure | wall: median (min–max) | CPU: median | seconds: median | target |",
        "|---|---|---|---|---|",
        f'| `pytest --repro -m "repro or repro_probe"` (twins + seed probe) ÷ one `python -m training --jobs 1` '
        f"| {_ratio(ratios['full'])} | {cpu['full']['median']:.2f}× "
        f"| {seconds['full']['median']:.1f} / {seconds['single']['median']:.1f} "
        f"| ≤ {TARGETS['full']}×: {_verdict(ratios['full']['median'], TARGETS['full'])} |",
        "| the CI gate: `python -m training`, the check, `pytest --repro --repro-against artifacts/lineage.json "
        f'-m "repro or lineage"`, in trainings (÷ its own first step) | {_ratio(ratios["gate"], " trainings")} '
        f"| {cpu['gate']['median']:.2f} | {seconds['gate']['median']:.1f} / {seconds['training']['median']:.1f} "
        f"| ≤ {TARGETS['gate']}: {_verdict(ratios['gate']['median'], TARGETS['gate'])} |",
        f'| the same gate with twins (`pytest --repro -m "repro or lineage"`, before `--repro-against`) '
        f"| {_ratio(ratios['twin_gate'], ' trainings')} | {cpu['twin_gate']['median']:.2f} "
        f"| {seconds['twin_gate']['median']:.1f} | – |",
        "| the run recorder and write guard: one `python -m training --jobs 1` recorded and guarded as in a "
        f"`pytest --repro` run ÷ the same without | {_ratio(ratios['recorded'])} | {cpu['recorded']['median']:.2f}× "
        f"| {seconds['recorded']['median']:.1f} / {seconds['single']['median']:.1f} | – |",
    ]
    for key, label, target in (
        ("unconfigured", "a project that does not configure it", True),
        ("function", "a project that configures a function training", True),
        (
            "checkout",
            f"this checkout (the demo's function training, {result['checkout_tests']} tests)",
            False,
        ),
    ):
        row = load[key]
        pair = row["pair_differences_ms"]
        verdict = f"≤ +{TARGETS['load_ms']:.0f} ms: {_verdict(row['added_ms'], TARGETS['load_ms'])}"
        rows.append(
            f"| `python -m pytest --collect-only -q` with the plugin vs `-p no:repro`, {label} "
            f"| **{row['added_ms']:+.0f} ms** (median of paired differences; pairs {pair['min']:+.0f} to "
            f"{pair['max']:+.0f}) | {row['added_cpu_ms']:+.0f} ms | {row['with']:.3f} vs {row['without']:.3f} "
            f"| {verdict if target else '–'} |"
        )
        if "collector_off_ms" in row:
            off, full = row["collector_off_pairs_ms"], row["full_collections"]
            rows.append(
                f"| the same, garbage collector off (the plugin's own work); full collections run with / "
                f"without the plugin: {full['with']} / {full['without']} "
                f"| {row['collector_off_ms']:+.0f} ms (pairs {off['min']:+.0f} to {off['max']:+.0f}) | – | – | – |"
            )
    imported = result["plugin_import_ms"]
    rows.append(
        "| importing `pytest_repro.plugin` after pytest (`python -X importtime`; what any session with the "
        f"plugin pays first) | **{imported['median']:.1f} ms** ({imported['min']:.1f}–{imported['max']:.1f}) "
        "| – | – | – |"
    )
    before, after = result["load_before"], result["load_after"]
    rows += [
        "",
        f"Machine: {result['machine']}; BLAS: {result['blas']}. Load average (1, 5, 15 min) before: "
        f"{', '.join(f'{v:.2f}' for v in before)}; after: {', '.join(f'{v:.2f}' for v in after)}. "
        f"{result['rounds']} rounds of the session rows, {result['pairs']} pairs per load row "
        f"({max(5, result['pairs'] // 4)} for this checkout), "
        f"{result['seconds'] / 60:.0f} minutes in all.",
    ]
    return "\n".join(rows) + "\n"


def write_readme(table: str) -> None:
    """Replace the README's table between its markers."""
    text = README.read_text(encoding="utf-8")
    start, end = (text.index(marker) for marker in MARKERS)
    README.write_text(text[: start + len(MARKERS[0])] + "\n" + table + text[end:], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the session rows (default 3)")
    parser.add_argument(
        "--pairs", type=int, default=40, help="pairs per load row (default 40; a quarter for the checkout)"
    )
    parser.add_argument("--no-readme", action="store_true", help="write the results, not the README")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = environment()
    load_before = load_average()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="repro-benchmark-") as scratch_dir:
        scratch = Path(scratch_dir)
        measured = private_temporary_folder(env, scratch / "tmp")
        print("plugin load ...", flush=True)
        load = {
            "unconfigured": load_row(
                load_project(scratch / "unconfigured", training=False), measured, args.pairs
            ),
            "function": load_row(load_project(scratch / "function", training=True), measured, args.pairs),
            "checkout": load_row(ROOT, measured, max(5, args.pairs // 4), collector_off=False),
        }
        plugin_import_ms = plugin_import(measured, args.pairs)
        print("sessions ...", flush=True)
        project = checkout_copy(scratch / "checkout")
        sessions = session_rows(project, measured, args.rounds)
    collected = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:repro",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()
    )
    result = {
        "machine": describe_machine(),
        "blas": blas_kernels(env),
        "load_before": load_before,
        "load_after": load_average(),
        "seconds": time.perf_counter() - started,
        "rounds": args.rounds,
        "pairs": args.pairs,
        "checkout_tests": collected[-1].split()[0].split("/")[-1] if collected else "?",
        "targets": TARGETS,
        "sessions": sessions,
        "load": load,
        "plugin_import_ms": plugin_import_ms,
    }
    (RESULTS / "performance.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    table = markdown(result)
    (RESULTS / "performance.md").write_text(table, encoding="utf-8")
    if not args.no_readme:
        write_readme(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
