"""Find which variation of the environment breaks reproducibility, as reproducible-builds tools do.

A *variation* names one thing that differs between a reference run and a varied run
of the same training (same entry point, config and seed):

    hashseed   PYTHONHASHSEED 1 -> 2: the iteration order of sets of strings
    threads    BLAS/OpenMP threads (OMP_NUM_THREADS and friends) 1 -> max(2, cores)
    n_jobs     REPRO_N_JOBS 1 -> 2, for entry points that pass it to their estimators
    workers    REPRO_WORKERS 1 -> 2, for entry points that start worker processes
    cwd        the working directory: the project folder -> an empty folder elsewhere
               (not applicable to a command, which always runs from its own copy)
    path       the project's absolute location: config, the files it names, their pin
               registry and the entry module's package are copied to another folder
               and trained from there (the working directory stays put, see below)
    tz         TZ=UTC -> GMT-14 (UTC+14)
    locale     LC_ALL/LANG C.UTF-8 -> an installed locale that collates otherwise (not
               exercised when only C, C.UTF-8 and POSIX are installed)
    umask      022 -> 002
    home       HOME -> an empty folder
    dir_order  folders list in reverse order (os.listdir, os.scandir, and so glob and
               Path.iterdir), as another file system may list them
    time       the wall clock moved 400 days ahead by a preloaded library (built with cc)
    row_order  REPRO_ROW_ORDER_SEED unset -> 1: the entry point feeds its rows in a
               shuffled order.  A model may legitimately depend on row order, so this
               one reports how far each metric moved instead of failing.
    blas_kernel  OpenBLAS's kernel family one CPU generation older (OPENBLAS_CORETYPE),
               or MKL limited to older instructions: a *portability* finding, reported
               unless `--repro-portability=fail`
    simd       numpy's SIMD dispatch narrowed to its baseline (NPY_DISABLE_CPU_FEATURES),
               as on an older CPU: a portability finding too
    cpus       the run may use half the CPUs, or one (its CPU affinity, set before it
               starts; LOKY_MAX_CPU_COUNT, PYTHON_CPU_COUNT, OMP_THREAD_LIMIT; the
               BLAS/OpenMP thread variables at most that), as on a smaller runner: a
               portability finding; `not exercised` where this process has one CPU

The reference run pins every one of these to its reference value, so a comparison
differs in exactly what was varied.  Every run also gets PYTHONSAFEPATH=1, so that
the working directory is not put on `sys.path`: the entry module is imported from
where PYTHONPATH says (the project, or its moved copy), whatever the cwd.

The modules, one job each:

    base       the `Variation` interface (and `OneVariable`, one environment variable)
    catalogue  one small class per variation of this environment; the catalogue; selection
    machines   the variations standing in for another machine or day: time, blas_kernel, simd, cpus
    specs      `RunSpec` (how one run starts) and `Side` (what one side of a variation changes)
    workspace  the hunt's folders and machine facts, and the moved copy of the project
    locales    the installed locales, and the two the `locale` variation compares
    kernels    which BLAS kernel and numpy SIMD a run loads, read in a fresh interpreter
    clock      the shifted wall clock of `time`, built from clock_shift.c
    runs       training the specs through the plugin's launcher
    auto       auto mode: everything at once, then each variation alone only if that differs
    report     `VariationResult`, `VariationReport`, its JSON, table and verdict
    seeds      whether a training consumes its seed, and the spread of a seed sweep

`repro-vary` is the command line; `pytest --repro --repro-vary=...` turns the same
computation into one test item per variation.
"""

from __future__ import annotations

from pytest_repro.variations.auto import compare_outcome, run_variations
from pytest_repro.variations.catalogue import (
    ALONE,
    CATALOGUE,
    INFORMATIONAL,
    PORTABILITY,
    VARIATIONS,
    Variation,
    describe,
    lookup,
    parse_selection,
    reference_spec,
    varied_spec,
)
from pytest_repro.variations.locales import choose_locales, installed_locales
from pytest_repro.variations.refusals import VariationError
from pytest_repro.variations.report import (
    VariationReport,
    VariationResult,
    detail_lines,
    rerun_command,
    save_json,
    table_lines,
    verdict,
)
from pytest_repro.variations.runs import run_environment, train_specs
from pytest_repro.variations.specs import MovedProject, RunSpec, Side
from pytest_repro.variations.workspace import Workspace, move_project

__all__ = [
    "ALONE",
    "CATALOGUE",
    "INFORMATIONAL",
    "PORTABILITY",
    "VARIATIONS",
    "MovedProject",
    "RunSpec",
    "Side",
    "Variation",
    "VariationError",
    "VariationReport",
    "VariationResult",
    "Workspace",
    "choose_locales",
    "compare_outcome",
    "describe",
    "detail_lines",
    "installed_locales",
    "lookup",
    "move_project",
    "parse_selection",
    "reference_spec",
    "rerun_command",
    "run_environment",
    "run_variations",
    "save_json",
    "table_lines",
    "train_specs",
    "varied_spec",
    "verdict",
]
