"""What a run depended on besides its inputs: interpreter, libraries, machine, code version.

Recorded in the lineage so that a run that does not reproduce elsewhere can be
explained (scikit-learn 1.9.1 -> 1.9.2, BLAS kernel Haswell -> SkylakeX); nothing
here is a path of the machine or a time.  The machine part (`cpu`, `numpy_simd`,
BLAS architectures in `threadpools`, `variables`) is what decides which compiled
kernels run, and so the last bits of floating-point results, on another runner.
"""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "joblib", "threadpoolctl")
_POOL_FIELDS = (
    "user_api",
    "internal_api",
    "prefix",
    "version",
    "num_threads",
    "threading_layer",
    "architecture",
)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str | None]:
    """Return installed versions by distribution name (None when absent)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def thread_pools() -> list[dict[str, Any]] | None:
    """Describe the loaded BLAS/OpenMP libraries and their thread counts, without file paths.

    Sorted by every field, so that two libraries that agree on their names (two OpenBLAS
    builds, one in numpy and one in scipy) are listed in the same order whatever the
    hash seed: the lineage must not differ between twins.  None when threadpoolctl (in
    the `sklearn` extra) is not installed.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [{k: info.get(k) for k in _POOL_FIELDS if k in info} for info in threadpool_info()]
    return sorted(pools, key=lambda pool: json.dumps(pool, sort_keys=True, default=str))


def capture_environment() -> dict[str, Any]:
    """Return the environment section of a lineage."""
    from pytest_repro.lineage.machine_facts import cpu_description, numpy_simd, relevant_variables

    simd = numpy_simd()  # imports numpy when installed, so that its BLAS shows in the thread pools
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_description(),
        "numpy_simd": simd,
        "packages": package_versions(),
        "threadpools": thread_pools(),
        "variables": relevant_variables(),
    }


def code_version(folder: Path) -> dict[str, Any] | None:
    """Return the git commit and a dirty flag for the checkout holding `folder`, or None."""
    try:
        commit = _git(folder, "rev-parse", "HEAD")
        status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    if commit is None or status is None:
        return None
    return {"git_commit": commit.strip(), "dirty": bool(status.strip())}


def _git(folder: Path, *args: str) -> str | None:
    # --no-optional-locks: `git status` would otherwise refresh and rewrite the user's index.
    result = subprocess.run(
        ["git", "--no-optional-locks", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def environment_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """List what changed between two environment sections, the most probable cause of a moved output first.

    A changed BLAS kernel or library comes first (it moves the last bits of every
    matrix product), then numpy's SIMD dispatch and the CPU, then library versions,
    the variables that steer those kernels, the interpreter and platform, and last the
    libraries only one run happened to load and the thread counts (which a training
    that pins its threads does not depend on).
    """
    from pytest_repro.lineage.machine_facts import machine_differences

    ranked = machine_differences(recorded, current)
    changes = ranked["kernel"] + ranked["simd"] + ranked["cpu"]
    old, new = recorded.get("packages") or {}, current.get("packages") or {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            changes.append(f"{name} {old.get(name)} -> {new.get(name)}")
    changes += ranked["variables"]
    for key in ("python", "implementation", "platform", "machine"):
        if recorded.get(key) != current.get(key):
            changes.append(f"{key} {recorded.get(key)} -> {current.get(key)}")
    changes += ranked["loaded"] + ranked["threads"]
    return changes
