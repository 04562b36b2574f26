"""The catalogue: one small class per variation, behind the one `Variation` interface (`variation`).

The variations of this process's environment live here; those that stand in for
another machine or day live in `machines`.  Adding a variation is adding a class to
`CATALOGUE`; nothing else branches on variation names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from pytest_repro.core.environment_names import (
    N_JOBS_VARIABLE,
    ROW_ORDER_VARIABLE,
    THREAD_VARIABLES,
    WORKERS_VARIABLE,
)
from pytest_repro.running.isolation import DIR_ORDER_VARIABLE
from pytest_repro.variations.locales import installed_locales
from pytest_repro.variations.machines import BlasKernel, Clock, Cores, Simd
from pytest_repro.variations.refusals import VariationError
from pytest_repro.variations.specs import MovedProject, RunSpec, Side
from pytest_repro.variations.variation import OneVariable, Variation
from pytest_repro.variations.workspace import Workspace, inside


class HashSeed(OneVariable):
    name = "hashseed"
    description = "PYTHONHASHSEED: the iteration order of sets (and dicts built from them) of strings"
    variable = "PYTHONHASHSEED"
    values = ("1", "2")


class Threads(Variation):
    name = "threads"
    description = "BLAS/OpenMP thread count (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, ...)"

    def reference(self, ws: Workspace) -> Side:
        return Side("1 BLAS/OpenMP thread", dict.fromkeys(THREAD_VARIABLES, "1"))

    def varied(self, ws: Workspace) -> Side:
        many = str(max(2, ws.cores))
        return Side(f"{many} threads", dict.fromkeys(THREAD_VARIABLES, many))


class NJobs(OneVariable):
    name = "n_jobs"
    description = (
        f"{N_JOBS_VARIABLE}: the n_jobs an entry point gives its estimators (if it reads the variable)"
    )
    variable = N_JOBS_VARIABLE
    values = ("1", "2")
    expected_parameters = ("n_jobs",)
    reads = N_JOBS_VARIABLE


class Workers(OneVariable):
    name = "workers"
    description = f"{WORKERS_VARIABLE}: the worker processes a training may start (if it reads the variable)"
    variable = WORKERS_VARIABLE
    values = ("1", "2")
    reads = WORKERS_VARIABLE


class WorkingDirectory(Variation):
    name = "cwd"
    description = "the working directory"

    def reference(self, ws: Workspace) -> Side:
        return Side(ws.shown(ws.cwd), cwd=ws.cwd)

    def varied(self, ws: Workspace) -> Side:
        return Side("an empty folder elsewhere", cwd=ws.empty_folder("elsewhere"))

    def not_applicable(self, ws: Workspace) -> str | None:
        # A script's relative paths (data/, models/) are relative to where it is run, and a
        # hand run, like every run of ours, starts in the project: started elsewhere it
        # would fail for a reason that says nothing about reproducibility.  Where the
        # project lies is what `path` varies.
        if ws.request.command is None:
            return None
        return "a command always runs from its own copy of the project (the path variation moves that copy)"


class ProjectPath(Variation):
    name = "path"
    description = "the project's absolute path (config, data, pins and entry package copied elsewhere)"

    def reference(self, ws: Workspace) -> Side:
        return Side("the project folder")

    def varied(self, ws: Workspace) -> Side:
        moved: MovedProject = ws.moved()
        code = "" if moved.code_moved else f" (the entry module stays: {_unmoved_code(ws)})"
        return Side(f"a copy in another folder{code}", moved=moved)


def _unmoved_code(ws: Workspace) -> str:
    """Why the path variation left the entry module where it is: outside the project, or in an import folder."""
    import importlib.util

    top = ws.request.entry.partition(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    folder = inside(origin.parent, ws.project_root) if origin is not None else None
    if folder is None or folder == Path():
        return "it is not in the project"
    # A src/ layout on the ini's pythonpath: only the config and the files it names are moved.
    return f"it is imported from {folder.as_posix()}/, which is not moved"


class TimeZone(OneVariable):
    name = "tz"
    description = "TZ: the local time zone"
    variable = "TZ"
    values = ("UTC", "GMT-14")  # GMT-14 is UTC+14 in POSIX's inverted sign


class Locale(Variation):
    name = "locale"
    description = (
        "LC_ALL and LANG: to an installed locale whose collation, case rules and formats are not C's"
    )

    def reference(self, ws: Workspace) -> Side:
        reference, _ = ws.locales()
        return self._side(f"LC_ALL={reference}", reference)

    def varied(self, ws: Workspace) -> Side:
        _, varied = ws.locales()
        assert varied is not None, "the locale variation is unavailable here"
        return self._side(varied, varied)

    def unavailable(self, ws: Workspace) -> str | None:
        reference, varied = ws.locales()
        if varied is not None:
            return None
        installed = ", ".join(installed_locales()) or "no locale"
        return (
            f"only {installed} installed, and those sort strings by code point as {reference} does: install "
            "a locale such as de_DE.UTF-8 (locale-gen) to vary collation"
        )

    @staticmethod
    def _side(description: str, name: str) -> Side:
        return Side(description, {"LC_ALL": name, "LANG": name, "LANGUAGE": None})


class Umask(Variation):
    name = "umask"
    description = "the file-creation mask"
    values = (0o022, 0o002)

    def reference(self, ws: Workspace) -> Side:
        return Side(f"umask {self.values[0]:03o}", umask=self.values[0])

    def varied(self, ws: Workspace) -> Side:
        return Side(f"{self.values[1]:03o}", umask=self.values[1])


class Home(Variation):
    name = "home"
    description = "HOME"

    def reference(self, ws: Workspace) -> Side:
        return Side("the user's HOME", {"HOME": ws.home})

    def varied(self, ws: Workspace) -> Side:
        return Side("an empty folder", {"HOME": str(ws.empty_folder("home"))})


class DirectoryOrder(Variation):
    name = "dir_order"
    description = (
        "the order folders list in (os.listdir, os.scandir, glob, Path.iterdir): reversed, as another "
        "file system may list them"
    )

    def reference(self, ws: Workspace) -> Side:
        return Side("the file system's order", {DIR_ORDER_VARIABLE: None})

    def varied(self, ws: Workspace) -> Side:
        return Side("reversed", {DIR_ORDER_VARIABLE: "reverse"})


class RowOrder(Variation):
    name = "row_order"
    description = f"{ROW_ORDER_VARIABLE}: the order of the dataset's rows (reported, never a failure)"
    informational = True
    unchanged_note = f"no output changed: order-independent, or the entry point ignores {ROW_ORDER_VARIABLE}"
    reads = ROW_ORDER_VARIABLE
    seed = "1"

    def reference(self, ws: Workspace) -> Side:
        return Side("rows in file order", {ROW_ORDER_VARIABLE: None})

    def varied(self, ws: Workspace) -> Side:
        return Side(f"shuffled ({ROW_ORDER_VARIABLE}={self.seed})", {ROW_ORDER_VARIABLE: self.seed})


CATALOGUE: tuple[Variation, ...] = (
    HashSeed(),
    Threads(),
    NJobs(),
    Workers(),
    WorkingDirectory(),
    ProjectPath(),
    TimeZone(),
    Locale(),
    Umask(),
    Home(),
    DirectoryOrder(),
    Clock(),
    RowOrder(),
    BlasKernel(),
    Simd(),
    Cores(),
)
_BY_NAME = {variation.name: variation for variation in CATALOGUE}
VARIATIONS: dict[str, str] = {variation.name: variation.description for variation in CATALOGUE}
INFORMATIONAL = frozenset(variation.name for variation in CATALOGUE if variation.informational)
PORTABILITY = frozenset(variation.name for variation in CATALOGUE if variation.portability)
# Trained alone in the first round, never in the all-at-once run: a change there is expected.
ALONE = INFORMATIONAL | PORTABILITY


def lookup(name: str) -> Variation:
    """Return the variation called `name`."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise VariationError(f"unknown variation {name!r}") from None


def parse_selection(text: str, source: str = "--vary") -> tuple[str, ...]:
    """Turn `all` or a comma list into variation names in catalogue order; unknown names are errors."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise VariationError(
            f"{source}: got {text!r}; expected all or a comma list of {', '.join(VARIATIONS)}"
        )
    if "all" in parts:
        return tuple(VARIATIONS)
    unknown = [part for part in parts if part not in VARIATIONS]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, VARIATIONS, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise VariationError(
            f"{source}: unknown variation {', '.join(hints)}; expected all or some of {', '.join(VARIATIONS)}"
        )
    return tuple(name for name in VARIATIONS if name in parts)


def reference_spec(ws: Workspace) -> RunSpec:
    """The reference run: every variation at its reference value."""
    spec = RunSpec(ws.request, cwd=ws.cwd)
    for variation in CATALOGUE:
        if variation.pins_reference:
            spec = variation.reference(ws).apply(spec)
    return spec


def varied_spec(reference: RunSpec, names: Iterable[str], ws: Workspace) -> RunSpec:
    """The reference run with the named variations applied."""
    spec = reference
    for name in names:
        spec = lookup(name).varied(ws).apply(spec)
    return spec


def describe(name: str, ws: Workspace) -> tuple[str, str]:
    """Return the reference and varied descriptions of variation `name`."""
    variation = lookup(name)
    return variation.reference(ws).description, variation.varied(ws).description
