"""The variations that stand in for another machine or another day: `time`, `blas_kernel`, `simd`, `cpus`.

Each asks the machine first (a C compiler for the shifted clock; which BLAS kernel and
numpy SIMD dispatch a fresh interpreter loads; how many CPUs this process may use) and
says why it cannot apply instead of trusting a switch the libraries ignore.
"""

from __future__ import annotations

import os
from abc import abstractmethod

from pytest_repro.core.environment_names import THREAD_VARIABLES
from pytest_repro.variations.clock import OFFSET_VARIABLE, unavailable_reason
from pytest_repro.variations.kernels import (
    Kernels,
    mkl_instructions,
    narrowed_dispatch,
    older_openblas_family,
)
from pytest_repro.variations.specs import Side
from pytest_repro.variations.variation import Variation
from pytest_repro.variations.workspace import Workspace


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
        target = older_openblas_family(*families)
        if target is None:
            return f"OpenBLAS already runs its oldest kernel family here ({'/'.join(families)})"
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


# What reports a core count besides the CPU affinity itself: joblib/loky's cpu_count(),
# os.cpu_count() from Python 3.13 on, and the most threads OpenMP may start.
CORE_COUNT_VARIABLES = ("LOKY_MAX_CPU_COUNT", "PYTHON_CPU_COUNT", "OMP_THREAD_LIMIT")


class Cores(Variation):
    name = "cpus"
    description = (
        "the CPUs a run may use, half of them or one (CPU affinity, LOKY_MAX_CPU_COUNT, OMP_THREAD_LIMIT, "
        "BLAS/OpenMP threads at most that): a smaller runner (portability)"
    )
    portability = True
    pins_reference = False
    # How many threads a library ran with, recorded in its model (LightGBM's num_threads,
    # scikit-learn's _n_threads): set by the variation on purpose, not learned.
    expected_parameters = ("n_jobs",)

    def reference(self, ws: Workspace) -> Side:
        return Side(f"{ws.cores} cores" if ws.cores > 1 else "1 core")

    def varied(self, ws: Workspace) -> Side:
        assert ws.cpus is not None, "unavailable() is asked first"
        count = max(1, len(ws.cpus) // 2)
        cpus = frozenset(sorted(ws.cpus)[:count])
        shown = ", ".join(str(cpu) for cpu in sorted(cpus))
        return Side(
            f"{count} core{'s' if count > 1 else ''} (CPU {shown})",
            dict.fromkeys(CORE_COUNT_VARIABLES, str(count)),
            cpus=cpus,
            env_caps=dict.fromkeys(THREAD_VARIABLES, count),
        )

    def unavailable(self, ws: Workspace) -> str | None:
        if ws.cpus is None:
            return (
                "this platform has no CPU affinity (os.sched_setaffinity), so no run can be given fewer CPUs"
            )
        if len(ws.cpus) < 2:
            return (
                f"this process may run on one CPU only (affinity {{{next(iter(ws.cpus))}}}), "
                "so no run can see fewer cores than the reference"
            )
        return None
