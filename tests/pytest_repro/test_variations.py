"""Each planted dependence on the environment is caught by its own variation, and only by it.

The example trainings here use numpy alone (no scikit-learn), so that the dozen
subprocess trainings of a variation hunt stay cheap.  The deterministic training
fits a centroid model on a seeded half of the rows with `math.fsum`, which is exact
and so independent of the row order; each planted case swaps in one expression.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fnmatch import fnmatch
from string import Template

import pytest

from pytest_repro.cli.repro_vary import main
from pytest_repro.running.affinity import inherited_affinity
from pytest_repro.settings.table import parse_seeds
from pytest_repro.variations import VARIATIONS, Workspace, choose_locales, installed_locales, lookup
from pytest_repro.variations.clock import unavailable_reason as clock_unavailable

_TRAINING = Template('''\
"""A tiny numpy-only training with (at most) one planted dependence on its environment."""

import datetime
import json
import locale
import math
import os
import time
from pathlib import Path

import numpy as np

FEATURES = ["age", "income", "tenure", "visits", "spend", "region", "clicks", "score"]


def blas_threads():
    from threadpoolctl import threadpool_info

    return max(info["num_threads"] for info in threadpool_info())


def chunked_sum(values, chunks):
    """Sum as a parallel reduction does: one partial sum per chunk, then the partials."""
    return sum(sum(chunk.tolist()) for chunk in np.array_split(values, chunks))


def centroids(X, labels, fed, rng):
    chosen = set(rng.choice(len(X), size=len(X) // 2, replace=False).tolist())
    picked = [i for i in fed if i in chosen]
    return [
        math.fsum(X[i, j] for i in picked if labels[i]) - math.fsum(X[i, j] for i in picked if not labels[i])
        for j in range(X.shape[1])
    ]


def sgd(X, labels, fed, rng):
    """One pass of logistic SGD over the rows in the order they are fed, without shuffling."""
    weights = rng.normal(size=X.shape[1]) * 0.01
    for i in fed:
        weights += 0.1 * (labels[i] - 1 / (1 + math.exp(-float(X[i] @ weights)))) * X[i]
    return weights.tolist()


def train(config_path, output_dir, seed=None, overrides=None):
    config = dict(line.split(": ") for line in Path(config_path).read_text().splitlines())
    seed = int(config["seed"]) if seed is None else seed
    out = Path(output_dir)
    rows = np.random.default_rng(0).normal(size=(int(config["n_samples"]), len(FEATURES)))
    labels = rows[:, 0] + rows[:, 1] > 0
    fed = np.arange(len(rows))
    if os.environ.get("REPRO_ROW_ORDER_SEED"):
        fed = np.random.default_rng(int(os.environ["REPRO_ROW_ORDER_SEED"])).permutation(len(rows))
    rng = np.random.default_rng($seed)
    folds = [sorted(fold.tolist()) for fold in np.array_split(rng.permutation(len(rows)), 3)]
    features = $features
    X = rows[:, [FEATURES.index(name) for name in features]]
    weights = $fit(X, labels, fed, rng)
    model = {"features": features, "weights": weights, **$extra}
    (out / "model.json").write_text(json.dumps(model))
    margins = X @ np.array(weights)
    loss = float(np.mean(np.logaddexp(0, -np.where(labels, 1, -1) * margins)))
    metrics = {"accuracy": float(np.mean((margins > 0) == labels)), "loss": loss, "seed": seed}
    return {"artifacts": {"$artifact": "model.json"}, "folds": folds, "metrics": metrics}
''')

DETERMINISTIC = {
    "seed": "seed",
    "features": "FEATURES",
    "fit": "centroids",
    "extra": "{}",
    "artifact": "weights",
}
CONFIG = {"seed": 3, "n_samples": 40}

# variation -> (the planted expression, the JSON pointer its difference shows up at)
PLANTED = {
    "hashseed": ({"features": "list(set(FEATURES))"}, "/features/*"),
    "threads": ({"extra": '{"bias": chunked_sum(rows[:, 1] * np.exp(rows[:, 2]), blas_threads())}'}, "/bias"),
    "cwd": ({"extra": '{"data_dir": os.path.abspath("data")}'}, "/data_dir"),
    "tz": ({"extra": '{"launch": time.mktime(time.strptime("2024-03-01", "%Y-%m-%d"))}'}, "/launch"),
    "n_jobs": (
        {
            "extra": '{"bias": chunked_sum(rows[:, 1] * np.exp(rows[:, 2]), int(os.environ.get("REPRO_N_JOBS", "1")))}'
        },
        "/bias",
    ),
    "path": ({"extra": '{"code": str(Path(__file__).resolve().parent)}'}, "/code"),
    # Categories sorted by the locale's collation: the same under C, C.UTF-8 and POSIX, not elsewhere.
    "locale": (
        {
            "extra": '{"categories": locale.setlocale(locale.LC_ALL, "") and '
            'sorted(["b", "A", "a", "B", "é"], key=locale.strxfrm)}'
        },
        "/categories/*",
    ),
    "umask": ({"extra": '{"umask": os.umask(0o022)}'}, "/umask"),
    "home": ({"extra": '{"cache": os.path.expanduser("~/.cache/tiny")}'}, "/cache"),
    # Files taken in directory order: the standard library's folder, the same under every other variation.
    "dir_order": ({"extra": '{"shards": os.listdir(os.path.dirname(json.__file__))}'}, "/shards/*"),
    # An account's age from today's date: the classic model that changes from one day to the next.
    # Today in UTC: a local date would also move under the `tz` variation whenever GMT-14 is
    # already tomorrow (after 10:00 UTC), and the plant must trip its own variation only.
    "time": (
        {
            "extra": '{"age_days": (datetime.datetime.now(datetime.timezone.utc).date() - datetime.date(2020, 1, 1)).days}'
        },
        "/age_days",
    ),
}


def source(**knobs: str) -> str:
    return _TRAINING.substitute({**DETERMINISTIC, **knobs})


def write(example, **knobs: str):
    # The sensitivity check is named explicitly, whatever default the shared example helper sets.
    ini = {
        "repro_artifacts": [knobs.get("artifact", DETERMINISTIC["artifact"])],
        "repro_seed_sensitivity": "warn",
    }
    return example.write(source(**knobs), ini=ini, config=CONFIG)


# ----------------------------------------------------------------------------- the plugin

# artifact, folds, metrics, lineage[run-a|b], replay, seed-sensitivity and the lineage's verify.
TWIN_ITEMS = 8


@pytest.mark.slow
def test_deterministic_training_passes_every_variation_after_one_all_at_once_run(example):
    write(example)

    result = example.run("--repro", "--repro-vary=all")

    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes
    assert outcomes["passed"] + outcomes.get("skipped", 0) == TWIN_ITEMS + len(VARIATIONS)
    # Those that train alone come after the all-at-once run (blas_kernel, simd where they apply here).
    result.stdout.fnmatch_lines(["[[]repro vary] training * runs: reference, all, row_order*"])
    result.stdout.no_fnmatch_line("*to find the cause*")
    result.stdout.fnmatch_lines(
        [
            "vary[[]hashseed] * identical (PYTHONHASHSEED=1 -> 2, in the all-at-once run)",
            "vary[[]threads] * identical (1 BLAS/OpenMP thread -> * threads, in the all-at-once run)",
            # The training never reads REPRO_N_JOBS: identical, but it proves nothing.
            "vary[[]n_jobs] * not exercised: the training never read REPRO_N_JOBS, so nothing was varied",
            "vary[[]row_order] * unchanged (no output changed: order-independent, or *",
        ]
    )


# Without PYTHONSAFEPATH (new in 3.11) the working directory shadows the moved copy of the code.
NEEDS_SAFE_PATH = {"path": pytest.mark.skipif(sys.version_info < (3, 11), reason="needs PYTHONSAFEPATH")}
NEEDS_CLOCK = pytest.mark.skipif(clock_unavailable() is not None, reason=str(clock_unavailable()))
# Varying collation needs a locale that collates otherwise; tests never install one.
NEEDS_COLLATING_LOCALE = pytest.mark.skipif(
    choose_locales(installed_locales())[1] is None,
    reason="only locales that sort by code point are installed (locale-gen de_DE.UTF-8 to run it)",
)
# Each planted case is a hunt of a dozen trainings: all of them run under `-m slow`; the
# default run's hunt is the deterministic one above (which must stay all-clear).
DEFAULT_RUN_PLANTS: tuple[str, ...] = ()


def _plant_marks(name: str) -> list[pytest.MarkDecorator]:
    marks = [NEEDS_SAFE_PATH[name]] if name in NEEDS_SAFE_PATH else []
    marks += [NEEDS_CLOCK] if name == "time" else []
    marks += [NEEDS_COLLATING_LOCALE] if name == "locale" else []
    return marks if name in DEFAULT_RUN_PLANTS else [*marks, pytest.mark.slow]


@pytest.mark.parametrize(
    ("variation", "knobs", "pointer"),
    [pytest.param(name, *PLANTED[name], id=name, marks=_plant_marks(name)) for name in PLANTED],
)
def test_planted_dependence_fails_its_own_variation_only(example, variation, knobs, pointer):
    write(example, **knobs)

    result = example.run("--repro", "--repro-vary=all")

    result.stdout.fnmatch_lines(
        [
            f"*_ repro vary[[]{variation}] _*",
            f"{variation} (* -> *) changes the output:",
            "weights differ: * of * values differ*",
            f"  {pointer}: *",
            f"rerun: repro-vary --vary {variation} --config config.yaml",
        ]
    )
    result.stdout.fnmatch_lines([f"FAILED config.yaml::vary[[]{variation}] - *"])
    result.stdout.fnmatch_lines(["*the output changed; training * runs to find the cause*"])
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1
    assert outcomes["passed"] + outcomes.get("skipped", 0) == TWIN_ITEMS - 1 + len(VARIATIONS)


def test_row_order_dependence_reports_how_far_the_metrics_move_without_failing(example):
    write(example, fit="sgd")

    result = example.run("--repro", "--repro-vary=row_order")

    result.assert_outcomes(passed=7, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "vary[[]row_order] * changed (weights, metrics changed; 2 metrics moved, e.g. |Δ| /accuracy *, /loss *)"
        ]
    )


def test_when_the_twins_differ_every_probe_is_inconclusive_and_nothing_more_trains(example, monkeypatch):
    # Logged outside the project: a run may not write into it.
    log = example.path.parent / f"{example.path.name}-trainings.log"
    monkeypatch.setenv("TRAININGS_LOG", str(log))
    counter = '{"logged": Path(__import__("os").environ["TRAININGS_LOG"]).open("a").write("trained\\n")}'
    write(example, seed="None", extra=counter)

    result = example.run("--repro", "--repro-vary=tz,cwd", "-rs")

    result.stdout.fnmatch_lines(
        ["vary[[]tz] * inconclusive (the twins already differ (weights, folds, metrics))"]
    )
    result.stdout.fnmatch_lines(["seed-sensitivity * inconclusive (the twins already differ *"])
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]3] config.yaml:1: inconclusive: the twins already differ *; see the failing twin checks"]
    )
    assert "FAILED config.yaml::vary" not in result.stdout.str()
    # One bug, one cluster of failures: the twin checks; and the twins were the only trainings.
    assert log.read_text().splitlines() == ["trained", "trained"]


def test_unknown_variation_is_a_usage_error_suggesting_the_nearest_name(example):
    write(example)

    result = example.run("--repro", "--repro-vary=tz,hashsed")

    result.stderr.fnmatch_lines(["*--repro-vary: unknown variation 'hashsed' (did you mean 'hashseed'?)*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_training_that_reads_repro_n_jobs_is_exercised_by_the_n_jobs_variation(example):
    write(example, extra='{"jobs_seen": len(os.environ.get("REPRO_N_JOBS", "1")) > 0}')

    result = example.run("--repro", "--repro-vary=n_jobs", "--repro-seed-sensitivity=off")

    result.stdout.fnmatch_lines(["vary[[]n_jobs] * identical (REPRO_N_JOBS=1 -> 2, alone)"])
    result.assert_outcomes(passed=6, skipped=2)


# ----------------------------------------------------------------------------- other machines


def _applies(name: str, example) -> None:
    """Skip unless the variation can vary something for this interpreter (its BLAS, numpy)."""
    from pytest_repro.core.run_records import RunRequest

    ws = Workspace(
        RunRequest("tinytrain:train", example.path / "config.yaml", 3),
        example.path / "ws",
        example.path,
        example.path,
    )
    reason = lookup(name).unavailable(ws)
    if reason is not None:
        pytest.skip(f"{name} does not apply here: {reason}")


# A matrix product (BLAS) and an exponential (numpy's SIMD kernels) whose last bits depend on the CPU path;
# a sum split into one chunk per core, as a joblib-parallel reduction splits it.
KERNEL_PLANTS = {
    "cpus": '{"bias": chunked_sum(rows[:, 1] * np.exp(rows[:, 2]), __import__("joblib").cpu_count())}',
    "blas_kernel": '{"projection": (np.random.default_rng(1).normal(size=(50, 300)) @ np.random.default_rng(2).normal(size=(300, 20))).ravel().tolist()}',
    "simd": '{"growth": np.exp(np.random.default_rng(5).normal(size=256)).tolist()}',
}


@pytest.mark.parametrize(
    "variation",
    [pytest.param(name, marks=[pytest.mark.slow]) for name in KERNEL_PLANTS],
)
def test_another_machines_kernels_are_reported_as_portability_not_as_a_failure(example, variation):
    write(example, extra=KERNEL_PLANTS[variation])
    _applies(variation, example)

    result = example.run("--repro", f"--repro-vary={variation}", "--repro-seed-sensitivity=off")

    result.stdout.fnmatch_lines([f"vary[[]{variation}] * portability (* -> *: weights*"])
    result.assert_outcomes(passed=6, skipped=2)


@pytest.mark.slow
def test_a_sum_split_by_the_core_count_is_caught_by_cpus_and_by_no_other_variation(example):
    write(example, extra=KERNEL_PLANTS["cpus"])
    _applies("cpus", example)

    result = example.run("--repro", "--repro-vary=all", "-rA")

    result.stdout.fnmatch_lines(["vary[[]cpus] * portability (* cores -> * core* (CPU *): weights*/bias*"])
    table = [line for line in result.stdout.lines if line.startswith("vary[")]
    assert [line.split()[0] for line in table if "/bias" in line] == ["vary[cpus]"]
    assert "failed" not in result.parseoutcomes()


def _cpu_count_in_a_run(cpus: frozenset[int] | None) -> int:
    with inherited_affinity(cpus):
        found = subprocess.run(
            [sys.executable, "-c", "import os; print(len(os.sched_getaffinity(0)))"],
            capture_output=True,
            text=True,
            check=True,
        )
    return int(found.stdout)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_a_run_is_born_on_the_cpus_it_is_given_and_the_launching_thread_gets_its_own_back():
    before = os.sched_getaffinity(0)
    one = frozenset({min(before)})

    assert _cpu_count_in_a_run(one) == 1
    assert os.sched_getaffinity(0) == before
    assert _cpu_count_in_a_run(None) == len(before)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_cpus_is_not_exercised_where_the_process_may_use_one_cpu_only(example):
    write(example)
    one = frozenset({min(os.sched_getaffinity(0))})
    command = "import sys; from pytest_repro.cli.repro_vary import main; sys.exit(main(sys.argv[1:]))"

    with inherited_affinity(one):  # repro-vary itself started as on a one-core runner
        found = subprocess.run(
            [sys.executable, "-c", command, "--vary", "cpus"],
            cwd=example.path,
            capture_output=True,
            text=True,
        )

    assert found.returncode == 0, found.stdout + found.stderr
    (line,) = [line for line in found.stdout.splitlines() if line.startswith("cpus ")]
    assert "not exercised" in line
    assert "may run on one CPU only" in line


@pytest.mark.slow
def test_portability_fails_when_asked_to_naming_the_output_that_moved(example):
    write(example, extra=KERNEL_PLANTS["blas_kernel"])
    _applies("blas_kernel", example)

    result = example.run(
        "--repro", "--repro-vary=blas_kernel", "--repro-portability=fail", "--repro-seed-sensitivity=off"
    )

    result.stdout.fnmatch_lines(
        [
            "blas_kernel (* -> *OPENBLAS_CORETYPE=*) changes the output:",
            "weights differ: * of * values differ*",
            "  /projection/*",
        ]
    )
    result.assert_outcomes(passed=5, failed=1, skipped=2)


def test_bad_portability_mode_is_a_usage_error(example):
    write(example)

    result = example.run("--repro", "--repro-portability=warn")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --repro-portability: got 'warn'; expected one of info, fail"])


# ----------------------------------------------------------------------------- seeds


def test_training_that_ignores_its_seed_warns(example):
    write(example, seed="0")

    result = example.run("--repro")

    result.assert_outcomes(passed=6, skipped=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*config.yaml:1: ReproSeedWarning: seed 3 and seed 4 give identical outputs (weights, folds, metrics):"
            " nothing consumes the seed*",
        ]
    )
    result.stdout.fnmatch_lines(["seed-sensitivity * seed unused (seed 3 vs 4: every output identical)"])


def test_training_that_ignores_its_seed_fails_when_asked_to(example):
    write(example, seed="0")

    result = example.run("--repro", "--repro-seed-sensitivity=fail")

    result.assert_outcomes(passed=5, failed=1, skipped=2)
    result.stdout.fnmatch_lines(["FAILED config.yaml::seed-sensitivity - seed 3 and seed 4 give identical*"])


def test_model_that_alone_ignores_the_seed_is_information_not_a_warning(example):
    write(
        example,
        fit="(lambda X, labels, fed, rng: centroids(X, labels, fed, np.random.default_rng(0)))",
        artifact="model",
    )

    result = example.run("--repro")

    result.assert_outcomes(passed=6, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "seed-sensitivity * model seed-independent (the model is the same with seed 3 and 4*; folds changed with the seed)"
        ]
    )


def test_seeded_training_uses_its_seed(example):
    write(example)

    result = example.run("--repro", "-W", "error::pytest_repro.variations.seeds.ReproSeedWarning")

    result.assert_outcomes(passed=6, skipped=2)
    result.stdout.fnmatch_lines(["seed-sensitivity * seed used (seed 4 changed weights, folds, metrics)"])


def test_seed_sensitivity_is_on_by_default(example):
    write(example)
    pyproject = example.path / "pyproject.toml"
    pyproject.write_text(
        "".join(line for line in pyproject.read_text().splitlines(True) if "sensitivity" not in line)
    )

    result = example.run("--repro")

    result.stdout.fnmatch_lines(["seed-sensitivity * seed used (*"])
    result.assert_outcomes(passed=6, skipped=2)


def test_seed_sweep_checks_each_seed_and_summarises_the_spread(example):
    write(example)

    result = example.run("--repro", "--repro-seeds", "2-5")

    result.assert_outcomes(passed=10, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "seed[[]2] * identical",
            "seed[[]3] * identical (twins of the configured seed)",
            "seed[[]5] * identical",
            "seed sweep: spread of the metrics across 4 seeds (2-5)",
            "metric * mean * std * min * max",
            "/loss  *",
        ]
    )
    result.stdout.no_fnmatch_line("/seed *")


def test_bad_seed_range_is_a_usage_error_naming_the_option(example):
    write(example)

    result = example.run("--repro", "--repro-seeds", "9-2")

    result.stderr.fnmatch_lines(["*--repro-seeds: got '9-2'; seeds lie in * and a range runs low-high*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


# ----------------------------------------------------------------------------- repro-vary


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
def test_command_names_the_variation_and_writes_the_json_report(example, monkeypatch, capsys):
    write(example, **PLANTED["tz"][0])
    monkeypatch.chdir(example.path)

    code = main(["--vary", "tz,cwd,hashseed", "--json", "report.json"])

    out = capsys.readouterr().out
    assert code == 1
    assert "NOT reproducible under: tz (6 trainings)" in out
    report = json.loads((example.path / "report.json").read_text())
    assert report["broken_by"] == ["tz"]
    status = {v["name"]: (v["status"], v["tested"]) for v in report["variations"]}
    assert status == {
        "hashseed": ("identical", "alone"),
        "cwd": ("identical", "alone"),
        "tz": ("differs", "alone"),
    }
    assert report["variations"][-1]["differences"][0]["subject"] == "weights"


@pytest.mark.slow
def test_command_writes_the_hunt_as_an_html_page_with_the_matrix(example, monkeypatch, capsys):
    from html_report import read_page

    write(example, **PLANTED["tz"][0])
    monkeypatch.chdir(example.path)

    code = main(["--vary", "tz,hashseed", "--html", "hunt.html"])

    assert code == 1
    assert "repro-vary: report: hunt.html" in capsys.readouterr().err
    page = read_page(example.path / "hunt.html")
    header, *rows = page.tables["variations"]
    matrix = {row[0]: dict(zip(header[3:], row[3:], strict=True)) for row in rows}
    assert matrix["tz"]["weights"] == "differs"
    assert set(matrix["hashseed"].values()) == {"identical"}
    assert "NOT reproducible under: tz" in page.text
    assert "weights" in page.sections["differences"]


def test_command_all_clear_costs_two_trainings(example, monkeypatch, capsys):
    write(example)
    monkeypatch.chdir(example.path)

    code = main(["--vary", "hashseed,threads,path,home"])

    assert code == 0
    assert "reproducible under every variation checked (2 trainings)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--vary", "timezone"], "error: --vary: unknown variation 'timezone'"),
        (["--entry", "tinytrain"], "error: --entry: got 'tinytrain'; expected module:function"),
        (["--config", "missing.yaml"], "repro-vary: --config: */missing.yaml is not a file"),
        (
            ["--html", "config.yaml"],
            "repro-vary: --html: config.yaml is the training's config; the report never overwrites it*",
        ),
        (["--html", "missing/hunt.html"], "repro-vary: --html: the folder missing does not exist*"),
        (
            ["--html", "hunt.json", "--json", "hunt.json"],
            "repro-vary: --html: hunt.json is the --json report*",
        ),
        (
            ["--timeout", "soon"],
            "error: --timeout: got 'soon'; expected a number of seconds ≥ 0 (0: no limit)",
        ),
        (["--timeout", "-1"], "error: --timeout: got '-1'; expected a number of seconds*"),
    ],
)
def test_command_usage_errors_exit_2(example, monkeypatch, capsys, argv, message):
    write(example)
    monkeypatch.chdir(example.path)

    assert main(argv) == 2
    # A setting's bad value is its one line through `error:`, as in every command; the hunt's own checks keep the command's name.
    assert any(fnmatch(line, f"{message}*") for line in capsys.readouterr().err.splitlines())


def test_command_help_lists_every_variation(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in VARIATIONS)


def test_command_reports_a_variation_that_cannot_vary_here_as_not_exercised_without_training_it(
    example, monkeypatch, capsys
):
    write(example)
    monkeypatch.chdir(example.path)
    monkeypatch.setattr(type(lookup("tz")), "unavailable", lambda self, ws: "no other time zone here")

    code = main(["--vary", "tz"])

    out = capsys.readouterr().out
    assert code == 0
    assert any(
        line.startswith("tz ") and "not exercised" in line and "no other time zone here" in line
        for line in out.splitlines()
    )
    assert "reproducible under every variation checked (1 trainings)" in out


# ----------------------------------------------------------------------------- parsing


def test_seed_list_accepts_ranges_and_lists_without_duplicates():
    assert parse_seeds("0-3,2,7", "--repro-seeds") == (0, 1, 2, 3, 7)


@pytest.mark.slow
def test_xdist_workers_share_one_variation_hunt(example):
    pytest.importorskip("xdist")
    write(example)

    result = example.run_subprocess("-n", "2", "--repro", "--repro-vary=all", "-v")

    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes
    assert outcomes["passed"] + outcomes.get("skipped", 0) == TWIN_ITEMS + len(VARIATIONS)
    # Both workers ran vary items (passed, or skipped as not exercised), from the one hunt below.
    for worker in ("gw0", "gw1"):
        result.stdout.fnmatch_lines([f"[[]{worker}]*config.yaml::vary*"])
    hunts = list(example.path.glob("**/repro-shared/vary-*/runs"))
    assert len(hunts) == 1
    # Each run's folder; beside it, its isolation (temporary folder, recorder logs, write guard).
    trained = {
        path.name for path in hunts[0].iterdir() if path.is_dir() and not path.name.endswith(".isolation")
    }
    assert (
        {"all", "reference", "row_order"}
        <= trained
        <= {"all", "reference", "row_order", "blas_kernel", "simd", "cpus"}
    )
