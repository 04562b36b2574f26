"""The catalogue: one small class per variation, behind the one `Variation` interface.

A variation says what it changes between a reference run and a varied run (two
`Side`s), whether it can vary anything on this machine, and whether a change it
causes fails the check or is only reported.  Adding a variation is adding a class
to `CATALOGUE`; nothing else branches on variation names.
"""

from __future__ import annotations

import difflib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar

from pytest_repro.contract import N_JOBS_VARIABLE, ROW_ORDER_VARIABLE
from pytest_repro.running.launcher import THREAD_VARIABLES
from pytest_repro.variations.clock import OFFSET_VARIABLE, unavailable_reason
from pytest_repro.variations.errors import VariationError
from pytest_repro.variations.kernels import (
    Kernels,
    mkl_instructions,
    narrowed_dispatch,
    older_openblas_family,
)
from pytest_repro.variations.locales import same_locale
from pytest_repro.variations.specs import RunSpec, Side
from pytest_repro.variations.workspace import MovedProject, Workspace


class Variation(ABC):
    """One thing that differs between the reference run and the varied run of the same training."""

    name: ClassVar[str]
    # One line, shown by `repro-vary --help`.
    description: ClassVar[str]
    # A change is reported, never a failure (a model may legitimately depend on it).
    informational: ClassVar[bool] = False
    # It stands in for another machine: a change is reported as a portability finding,
    # and fails only when portability is asked to (`--repro-portability=fail`).
    portability: ClassVar[bool] = False
    # Model parameters the variation sets on purpose: a model differing only in them is reproducible.
    expected_parameters: ClassVar[tuple[str, ...]] = ()
    # What an informational variation that changed nothing means.
    unchanged_note: ClassVar[str] = ""
    # The reference run sets this variation's reference value; False when the reference is
    # the machine as it is (nothing to set, and finding out what it is costs a probe).
    pins_reference: ClassVar[bool] = True
    # The cooperation variable the training must read for this variation to vary anything.
    reads: ClassVar[str | None] = None

    @abstractmethod
    def reference(self, ws: Workspace) -> Side:
        """The reference value, which every run but this variation's varied one gets."""

    @abstractmethod
    def varied(self, ws: Workspace) -> Side:
        """The varied value (built only when asked: it may copy the project or create folders)."""

    def unavailable(self, ws: Workspace) -> str | None:
        """Why this variation cannot vary anything on this machine, or None when it applies."""
        return None


class OneVariable(Variation):
    """A variation of one environment variable: `VARIABLE=reference` -> `varied`."""

    variable: ClassVar[str]
    values: ClassVar[tuple[str, str]]

    def reference(self, ws: Workspace) -> Side:
        return Side(f"{self.variable}={self.values[0]}", {self.variable: self.values[0]})

    def varied(self, ws: Workspace) -> Side:
        return Side(self.values[1], {self.variable: self.values[1]})


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


class WorkingDirectory(Variation):
    name = "cwd"
    description = "the working directory"

    def reference(self, ws: Workspace) -> Side:
        return Side(ws.shown(ws.cwd), cwd=ws.cwd)

    def varied(self, ws: Workspace) -> Side:
        return Side("an empty folder elsewhere", cwd=ws.empty_folder("elsewhere"))


class ProjectPath(Variation):
    name = "path"
    description = "the project's absolute path (config, data, pins and entry package copied elsewhere)"

    def reference(self, ws: Workspace) -> Side:
        return Side("the project folder")

    def varied(self, ws: Workspace) -> Side:
        moved: MovedProject = ws.moved()
        code = "" if moved.code_moved else " (the entry module stays: it is not in the project)"
        return Side(f"a copy in another folder{code}", moved=moved)


class TimeZone(OneVariable):
    name = "tz"
    description = "TZ: the local time zone"
    variable = "TZ"
    values = ("UTC", "GMT-14")  # GMT-14 is UTC+14 in POSIX's inverted sign


class Locale(Variation):
    name = "locale"
    description = "LC_ALL and LANG"

    def reference(self, ws: Workspace) -> Side:
        return self._side(f"LC_ALL={ws.locales()[0]}", ws.locales()[0])

    def varied(self, ws: Workspace) -> Side:
        return self._side(ws.locales()[1], ws.locales()[1])

    def unavailable(self, ws: Workspace) -> str | None:
        reference, other = ws.locales()
        return f"no locale other than {reference} is installed" if same_locale(reference, other) else None

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


class Clock(Variation):
    name = "time"
    description = "the wall clock, moved 400 days ahead: features computed from today's date"
    offset_days = 400

    def reference(self, ws: Workspace) -> Side:
        return Side("the real clock", {OFFSET_VARIABLE: None})

    def varied(self, ws: Workspace) -> Side:
        library = ws.clock_library()
        preload = " ".join(p for p in (str(library), os.environ.get("LD_PRELOAD", "")) if p)
        return Side(
            f"{self.offset_days} days later",
            {"LD_PRELOAD": preload, OFFSET_VARIABLE: str(self.offset_days * 86400)},
        )

    def unavailable(self, ws: Workspace) -> str | None:
        reason = unavailable_reason()
        if reason is None:
            try:
                ws.clock_library()
            except OSError as exc:
                reason = str(exc)
        return reason


class KernelVariation(Variation):
    """A stand-in for another runner's CPU: the plan is (varied description, environment) or why not."""

    portability = True
    pins_reference = False

    @abstractmethod
    def plan(self, ws: Workspace) -> tuple[str, dict[str, str | None]] | str:
        """The varied side's description and variables, or the reason this variation cannot apply."""

    def varied(self, ws: Workspace) -> Side:
        plan = self.plan(ws)
        assert not isinstance(plan, str), "unavailable() is asked first"
        return Side(*plan)

    def unavailable(self, ws: Workspace) -> str | None:
        plan = self.plan(ws)
        return plan if isinstance(plan, str) else None


class BlasKernel(KernelVariation):
    name = "blas_kernel"
    description = (
        "the BLAS kernel family, one CPU generation older (OPENBLAS_CORETYPE, or MKL_ENABLE_INSTRUCTIONS): "
        "another runner (portability)"
    )

    def reference(self, ws: Workspace) -> Side:
        current = ws.kernels()
        families = "/".join(current.architectures()) or "as loaded"
        libraries = (
            "/".join(dict.fromkeys(_library_name(p.get("internal_api")) for p in current.blas)) or "BLAS"
        )
        return Side(f"{libraries} kernel {families}")

    def plan(self, ws: Workspace) -> tuple[str, dict[str, str | None]] | str:
        current = ws.kernels()
        if current.error:
            return f"could not see which BLAS the training loads: {current.error}"
        apis = {str(pool.get("internal_api")) for pool in current.blas}
        if not apis:
            return "numpy and scipy load no BLAS library that threadpoolctl can see"
        if "openblas" in apis:
            return self._openblas(ws, current)
        if "mkl" in apis:
            target = mkl_instructions(current.cpu_flags)
            return f"MKL limited to {target} (MKL_ENABLE_INSTRUCTIONS={target})", {
                "MKL_ENABLE_INSTRUCTIONS": target
            }
        return f"no kernel switch is known for this BLAS ({', '.join(sorted(apis))})"

    @staticmethod
    def _openblas(ws: Workspace, current: Kernels) -> tuple[str, dict[str, str | None]] | str:
        families = current.architectures()
        if not families:
            return "OpenBLAS does not report its kernel family (threadpoolctl 3.2 or newer reports it)"
        target = older_openblas_family(families[0])
        if target is None:
            return f"OpenBLAS already runs its oldest kernel family here ({families[0]})"
        varied = ws.kernels({"OPENBLAS_CORETYPE": target})
        if varied.error or not varied.architectures() or varied.architectures() == families:
            return f"OpenBLAS ignores OPENBLAS_CORETYPE={target} here (a build without DYNAMIC_ARCH)"
        return f"{'/'.join(varied.architectures())} (OPENBLAS_CORETYPE={target})", {
            "OPENBLAS_CORETYPE": target
        }


def _library_name(internal_api: object) -> str:
    return {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(str(internal_api), str(internal_api))


class Simd(KernelVariation):
    name = "simd"
    description = "numpy's SIMD dispatch narrowed to its baseline (NPY_DISABLE_CPU_FEATURES): an older CPU (portability)"

    def reference(self, ws: Workspace) -> Side:
        simd = ws.kernels().simd or {}
        dispatched = " ".join(simd.get("dispatched") or []) or "nothing"
        return Side(f"numpy dispatching {dispatched}")

    def plan(self, ws: Workspace) -> tuple[str, dict[str, str | None]] | str:
        current = ws.kernels()
        if current.error:
            return f"could not see numpy's SIMD dispatch: {current.error}"
        if current.simd is None:
            return "numpy is not installed for the training's interpreter"
        disabled = " ".join(narrowed_dispatch(current.simd))
        if not disabled:
            return "numpy dispatches no extension above its baseline on this CPU"
        varied = ws.kernels({"NPY_DISABLE_CPU_FEATURES": disabled})
        if varied.error:
            return f"numpy refuses NPY_DISABLE_CPU_FEATURES={disabled!r}: {varied.error}"
        if varied.simd == current.simd:
            return f"numpy ignores NPY_DISABLE_CPU_FEATURES={disabled!r} here"
        baseline = " ".join(current.simd.get("baseline") or []) or "its baseline"
        return f"baseline {baseline} only (NPY_DISABLE_CPU_FEATURES={disabled})", {
            "NPY_DISABLE_CPU_FEATURES": disabled
        }


CATALOGUE: tuple[Variation, ...] = (
    HashSeed(),
    Threads(),
    NJobs(),
    WorkingDirectory(),
    ProjectPath(),
    TimeZone(),
    Locale(),
    Umask(),
    Home(),
    Clock(),
    RowOrder(),
    BlasKernel(),
    Simd(),
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
