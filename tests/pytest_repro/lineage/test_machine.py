"""The machine facts a lineage records, and how a replay ranks their changes as probable causes."""

from __future__ import annotations

from pathlib import Path

from pytest_repro.lineage.environment import capture_environment, environment_differences
from pytest_repro.lineage.machine_facts import cpu_description, numpy_simd, relevant_variables

_CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
flags\t\t: fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512bw hypervisor

processor\t: 1
model name\t: Another CPU that must not be read
flags\t\t: fpu
"""


def _pools(architecture: str, threads: int = 1, scipy: bool = True) -> list[dict[str, object]]:
    pools = [
        {
            "user_api": "blas",
            "internal_api": "openblas",
            "prefix": "libscipy_openblas",
            "version": "0.3.31",
            "num_threads": threads,
            "threading_layer": "pthreads",
            "architecture": architecture,
        },
    ]
    if scipy:
        pools.append(
            {
                "user_api": "blas",
                "internal_api": "openblas",
                "prefix": "libscipy_openblas",
                "version": "0.3.30",
                "num_threads": threads,
                "threading_layer": "pthreads",
                "architecture": architecture,
            }
        )
    return pools


def test_cpu_description_reads_the_model_and_only_the_flags_that_pick_kernels(tmp_path: Path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(_CPUINFO)

    cpu = cpu_description(cpuinfo)

    assert cpu == {
        "model": "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
        "flags": ["avx", "avx2", "avx512bw", "avx512f", "fma", "sse4_1", "sse4_2", "ssse3"],
    }


def test_relevant_variables_are_the_kernel_and_thread_variables_without_paths():
    environ = {
        "OPENBLAS_CORETYPE": "Haswell",
        "OMP_NUM_THREADS": "1",
        "NPY_DISABLE_CPU_FEATURES": "AVX512F",
        "MKL_CBWR": "AUTO",
        "OPENBLAS_CONFIG": "/opt/openblas/config",
        "HOME": "/root",
        "PATH": "/usr/bin",
    }

    assert relevant_variables(environ) == {
        "MKL_CBWR": "AUTO",
        "NPY_DISABLE_CPU_FEATURES": "AVX512F",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_CONFIG": "(a path)",
        "OPENBLAS_CORETYPE": "Haswell",
    }


def test_numpy_simd_names_the_baseline_and_what_is_dispatched_here():
    simd = numpy_simd()

    assert simd is not None
    assert simd["baseline"]  # numpy is always built with a baseline
    import numpy

    umath = numpy._core._multiarray_umath if hasattr(numpy, "_core") else numpy.core._multiarray_umath
    assert set(simd["dispatched"]) <= set(umath.__cpu_dispatch__)


def test_capture_records_cpu_simd_and_variables_and_no_path(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")

    environment = capture_environment()

    assert environment["variables"]["OPENBLAS_CORETYPE"] == "Haswell"
    assert environment["cpu"]["model"]
    assert environment["numpy_simd"]["baseline"]
    assert "/" not in str(environment["variables"].values())


def test_a_changed_blas_kernel_is_the_first_probable_cause_and_thread_counts_the_last():
    recorded = {
        "packages": {"scikit-learn": "1.9.1"},
        "threadpools": _pools("Haswell", threads=2, scipy=False),
        "variables": {"OPENBLAS_CORETYPE": "Haswell", "OMP_NUM_THREADS": "2"},
        "numpy_simd": {"baseline": ["X86_V2"], "dispatched": ["X86_V3"]},
        "cpu": {"model": "A", "flags": ["avx2"]},
    }
    current = {
        "packages": {"scikit-learn": "1.9.2"},
        "threadpools": _pools("SkylakeX", threads=1),
        "variables": {"OMP_NUM_THREADS": "1"},
        "numpy_simd": {"baseline": ["X86_V2"], "dispatched": ["X86_V3", "X86_V4"]},
        "cpu": {"model": "B", "flags": ["avx2", "avx512f"]},
    }

    assert environment_differences(recorded, current) == [
        "BLAS kernel Haswell -> SkylakeX (libscipy_openblas)",
        "numpy SIMD dispatch X86_V3 -> X86_V3 X86_V4",
        "CPU A -> B",
        "CPU flags: now with avx512f",
        "scikit-learn 1.9.1 -> 1.9.2",
        "OPENBLAS_CORETYPE 'Haswell' -> unset",
        "blas library libscipy_openblas 0.3.30 loaded in this run only",
        "libscipy_openblas threads 2 -> 1",
        "OMP_NUM_THREADS '2' -> '1'",
    ]


def test_identical_environments_have_no_probable_cause():
    environment = capture_environment()

    assert environment_differences(environment, environment) == []
