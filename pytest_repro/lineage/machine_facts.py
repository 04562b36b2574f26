"""The machine facts that decide which compiled kernels a training runs, and how two records differ in them.

Two runners with the same Python and the same wheels still produce different model
bytes when OpenBLAS picks another kernel family (Haswell, SkylakeX), when numpy's
runtime dispatch uses other SIMD extensions (AVX2, AVX-512), or when a variable such
as `OPENBLAS_CORETYPE` or `NPY_DISABLE_CPU_FEATURES` steers them.  A lineage records
these facts so that a replay on another machine can name the cause.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# CPU flags that change which kernels BLAS and numpy pick (x86 and Arm names, as Linux lists them).
RELEVANT_FLAGS = frozenset(
    {
        "sse3",
        "ssse3",
        "sse4_1",
        "sse4_2",
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512cd",
        "avx512bw",
        "avx512dq",
        "avx512vl",
        "avx512ifma",
        "avx512vbmi",
        "avx512_vnni",
        "avx512_bf16",
        "avx512_fp16",
        "amx_tile",
        "asimd",
        "asimdhp",
        "sve",
        "sve2",
    }
)
# Variables read by BLAS, OpenMP and numpy when they load: they select kernels and thread counts.
VARIABLE_PREFIXES = ("OPENBLAS_", "GOTO_", "MKL_", "OMP_", "KMP_", "BLIS_", "NPY_")
# Of those, the ones that only set a thread count (ranked last: they rarely move a pinned training).
_THREAD_COUNT_SUFFIX = "_NUM_THREADS"
_CPUINFO = Path("/proc/cpuinfo")
_MODEL_KEYS = ("model name", "Model", "Hardware")


def cpu_description(cpuinfo: Path = _CPUINFO) -> dict[str, Any]:
    """The CPU's model name and the flags among `RELEVANT_FLAGS` it has (Linux; the model alone elsewhere)."""
    model: str | None = platform.processor() or None
    flags: set[str] = set()
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace") if cpuinfo.is_file() else ""
    except OSError:
        text = ""
    first_block = text.split("\n\n", 1)[0]
    for line in first_block.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key in _MODEL_KEYS and value:
            model = value
        elif key in ("flags", "Features"):
            flags.update(value.split())
    return {"model": model, "flags": sorted(flags & RELEVANT_FLAGS)}


def numpy_simd() -> dict[str, list[str]] | None:
    """numpy's compiled SIMD baseline and the dispatched extensions it uses on this CPU, or None without numpy.

    Importing numpy here also loads its BLAS, so that the thread pools recorded next
    to this include it even for a training that ran in another process.
    """
    try:
        import numpy  # noqa: F401
    except ImportError:
        return None
    umath = _multiarray_umath()
    if umath is None:
        return None
    features: Mapping[str, bool] = getattr(umath, "__cpu_features__", {})
    return {
        "baseline": list(getattr(umath, "__cpu_baseline__", [])),
        "dispatched": [name for name in getattr(umath, "__cpu_dispatch__", []) if features.get(name)],
    }


def _multiarray_umath() -> Any:
    from pytest_repro.core.private_apis import numpy_umath_module

    return numpy_umath_module()


def relevant_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables that steer BLAS, OpenMP and numpy, sorted; a path value is not recorded."""
    environ = os.environ if environ is None else environ
    found = {}
    for name in sorted(environ):
        if name.startswith(VARIABLE_PREFIXES):
            value = environ[name]
            found[name] = "(a path)" if os.path.isabs(value) else value
    return found


def machine_differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, list[str]]:
    """What changed between two environment sections, by kind: kernel, simd, cpu, variables, loaded, threads."""
    kernel, loaded, threads = _pool_differences(
        recorded.get("threadpools") or [], current.get("threadpools") or []
    )
    variables, thread_variables = _variable_differences(
        recorded.get("variables") or {}, current.get("variables") or {}
    )
    return {
        "kernel": kernel,
        "simd": _simd_differences(recorded.get("numpy_simd"), current.get("numpy_simd")),
        "cpu": _cpu_differences(recorded.get("cpu"), current.get("cpu")),
        "variables": variables,
        "loaded": loaded,
        "threads": threads + thread_variables,
    }


def _pool_differences(
    old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
) -> tuple[list[str], list[str], list[str]]:
    """Kernel and version changes of the BLAS/OpenMP pools; libraries loaded on one side only; thread counts.

    Pools are paired by library and version first, then by library alone (a version
    change), so that a library that one run happened to load (scipy's OpenBLAS) does
    not hide the kernel change of the library both loaded.
    """
    kernel: list[str] = []
    loaded: list[str] = []
    threads: list[str] = []
    before, after = list(old), list(new)
    pairs = []
    for key in (_library_version, _library):
        for a in list(before):
            b = next((b for b in after if key(b) == key(a)), None)
            if b is not None:
                pairs.append((a, b))
                before.remove(a)
                after.remove(b)
    for a, b in pairs:
        library = a.get("prefix") or a.get("internal_api")
        _note(kernel, _change("BLAS kernel", a.get("architecture"), b.get("architecture"), library))
        _note(kernel, _change(str(library), a.get("version"), b.get("version")))
        _note(kernel, _change(f"{library} threading", a.get("threading_layer"), b.get("threading_layer")))
        _note(threads, _change(f"{library} threads", a.get("num_threads"), b.get("num_threads")))
    for pools, where in ((before, "the recorded run"), (after, "this run")):
        for pool in pools:
            _note(
                loaded,
                f"{pool.get('user_api')} library {pool.get('prefix')} {pool.get('version')} loaded in {where} only",
            )
    return kernel, loaded, threads


def _library(pool: Mapping[str, Any]) -> tuple[str, ...]:
    return (str(pool.get("user_api")), str(pool.get("internal_api")), str(pool.get("prefix")))


def _library_version(pool: Mapping[str, Any]) -> tuple[str, ...]:
    return (*_library(pool), str(pool.get("version")))


def _change(what: str, before: Any, after: Any, library: Any = None) -> str | None:
    if before == after:
        return None
    return f"{what} {before} -> {after}" + (f" ({library})" if library else "")


def _note(lines: list[str], line: str | None) -> None:
    if line is not None and line not in lines:
        lines.append(line)


def _simd_differences(old: Any, new: Any) -> list[str]:
    if old == new or not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return [] if old == new else [f"numpy SIMD {_simd_text(old)} -> {_simd_text(new)}"]
    lines = []
    if old.get("baseline") != new.get("baseline"):
        lines.append(f"numpy SIMD baseline {_join(old.get('baseline'))} -> {_join(new.get('baseline'))}")
    if old.get("dispatched") != new.get("dispatched"):
        lines.append(f"numpy SIMD dispatch {_join(old.get('dispatched'))} -> {_join(new.get('dispatched'))}")
    return lines


def _simd_text(simd: Any) -> str:
    if not isinstance(simd, Mapping):
        return "not recorded"
    return f"{_join(simd.get('baseline'))} + {_join(simd.get('dispatched'))}"


def _cpu_differences(old: Any, new: Any) -> list[str]:
    if old == new:
        return []
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return [f"CPU {_cpu_text(old)} -> {_cpu_text(new)}"]
    lines = []
    if old.get("model") != new.get("model"):
        lines.append(f"CPU {old.get('model')} -> {new.get('model')}")
    before, after = set(old.get("flags") or []), set(new.get("flags") or [])
    if before != after:
        lost, gained = sorted(before - after), sorted(after - before)
        parts = ([f"without {_join(lost)}"] if lost else []) + ([f"with {_join(gained)}"] if gained else [])
        lines.append(f"CPU flags: now {', '.join(parts)}")
    return lines


def _cpu_text(cpu: Any) -> str:
    return str(cpu.get("model")) if isinstance(cpu, Mapping) else "not recorded"


def _variable_differences(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[list[str], list[str]]:
    kernels: list[str] = []
    threads: list[str] = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            line = f"{name} {_unset(old.get(name))} -> {_unset(new.get(name))}"
            (threads if name.endswith(_THREAD_COUNT_SUFFIX) else kernels).append(line)
    return kernels, threads


def _unset(value: str | None) -> str:
    return "unset" if value is None else repr(value)


def _join(values: Any) -> str:
    return " ".join(values) if values else "none"
