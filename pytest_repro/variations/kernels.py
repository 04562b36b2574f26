"""Which BLAS kernel and numpy SIMD dispatch a run gets, and which other ones this CPU can run.

The `blas_kernel` and `simd` variations stand in for another runner: OpenBLAS forced
to an older kernel family (`OPENBLAS_CORETYPE`), MKL limited to older instructions
(`MKL_ENABLE_INSTRUCTIONS`), numpy's dispatch narrowed to its baseline
(`NPY_DISABLE_CPU_FEATURES`).  What a run really gets is read in a fresh interpreter
with the run's environment, the way the training will load its libraries, so that a
varied value the libraries ignore is reported as not applicable instead of trusted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# OpenBLAS x86 kernel families, oldest first; a varied run gets the newest one older than the current.
OPENBLAS_FAMILIES = ("Prescott", "Nehalem", "Sandybridge", "Haswell", "SkylakeX")
# Families OpenBLAS reports for newer CPUs, mapped to the nearest family above.
_NEWER = {"cooperlake": "SkylakeX", "sapphirerapids": "SkylakeX", "zen": "Haswell"}
_ARM = {"neoversen1", "neoversen2", "neoversev1", "neoversev2", "cortexa72", "cortexa76", "armv8sve"}
PROBE_SECONDS = 60

_PROBE = """
import json, importlib
for name in ("numpy", "scipy.linalg"):
    try:
        importlib.import_module(name)
    except Exception:
        pass
from pytest_repro.lineage.environment import thread_pools
from pytest_repro.lineage.machine_facts import cpu_description, numpy_simd
print(json.dumps({"pools": thread_pools() or [], "simd": numpy_simd(), "cpu": cpu_description()}))
"""


@dataclass(frozen=True)
class Kernels:
    """What one interpreter with a given environment loads: BLAS pools, numpy SIMD, CPU flags."""

    pools: tuple[Mapping[str, Any], ...]
    simd: Mapping[str, list[str]] | None
    cpu_flags: frozenset[str]
    error: str | None = None

    @property
    def blas(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(pool for pool in self.pools if pool.get("user_api") == "blas")

    def architectures(self) -> tuple[str, ...]:
        """The distinct kernel families the BLAS libraries report, in pool order."""
        return tuple(dict.fromkeys(str(p.get("architecture")) for p in self.blas if p.get("architecture")))


def probe(env: Mapping[str, str]) -> Kernels:
    """Start a fresh interpreter with `env` and read what it loads; an interpreter that fails says why."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=PROBE_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return Kernels((), None, frozenset(), error=str(exc))
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Kernels((), None, frozenset(), error=last)
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Kernels(tuple(data["pools"]), data["simd"], frozenset(data["cpu"]["flags"]))


def older_openblas_family(*architectures: str) -> str | None:
    """The OpenBLAS kernel family one step older than the oldest of `architectures`, or None when none is known.

    numpy and scipy each bundle an OpenBLAS, of different versions that may report
    different families for one CPU (0.3.20 says Zen where 0.3.27 says Cooperlake).  The
    step is taken from the oldest, so that every loaded library changes kernel: stepping
    from Cooperlake to Haswell would leave a library that runs Zen (Haswell's kernels)
    as it was.
    """
    steps = [_one_older(architecture) for architecture in architectures]
    if not steps or None in steps:
        return None
    names = [name.lower() for name in OPENBLAS_FAMILIES]
    return min(steps, key=lambda step: names.index(step.lower()) if step.lower() in names else -1)


def _one_older(architecture: str) -> str | None:
    key = architecture.lower()
    if key in _ARM:
        return "ARMV8"
    family = _NEWER.get(key, architecture)
    names = [name.lower() for name in OPENBLAS_FAMILIES]
    if family.lower() in names:
        index = names.index(family.lower())
        return OPENBLAS_FAMILIES[index - 1] if index > 0 else None
    return "Prescott" if key not in ("prescott", "katmai", "armv8") else None


def mkl_instructions(cpu_flags: frozenset[str]) -> str:
    """An older MKL instruction set than this CPU's best: AVX2 on an AVX-512 CPU, else SSE4.2."""
    return "AVX2" if "avx512f" in cpu_flags else "SSE4_2"


def narrowed_dispatch(simd: Mapping[str, list[str]] | None) -> list[str]:
    """The dispatched extensions to disable so that numpy runs its baseline code only."""
    return list(simd.get("dispatched") or []) if simd else []
