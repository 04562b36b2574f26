"""Train the hunt's run specs through the one scheduler and executor, a bounded number at a time."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from pytest_repro.running.executor import Launch
from pytest_repro.running.launcher import ProgressSink, subprocess_environment
from pytest_repro.running.scheduler import RunResult, TrainingScheduler
from pytest_repro.variations.specs import RunSpec

__all__ = ["RunResult", "run_environment", "train_specs"]


def run_environment(spec: RunSpec) -> dict[str, str]:
    """The full environment of a run: the plugin's subprocess environment with the spec's changes."""
    env = subprocess_environment("1", 1)
    for name, value in spec.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    # The working directory must not decide where the entry module is imported from.
    env["PYTHONSAFEPATH"] = "1"
    if spec.import_first is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(spec.import_first), env.get("PYTHONPATH", "")])
    return env


def train_specs(
    specs: Mapping[str, RunSpec],
    folder: Path,
    *,
    sink: ProgressSink | None = None,
    parallel: int | None = None,
    scheduler: TrainingScheduler | None = None,
) -> dict[str, RunResult]:
    """Train each spec in a fresh interpreter, at most `parallel` at a time; failures are returned.

    The runs go to `scheduler` (the session's, behind the twins; a fresh one for
    `repro-vary`) as one pool: each with its own cwd, umask and CPUs, at most
    `parallel` at a time (by default the cores this process may use, at least two),
    every failure kept.  Each run is held to the request's timeout (`repro_timeout`),
    like the twins.
    """
    launches = []
    for label, spec in specs.items():
        output = folder / label
        if output.exists():
            shutil.rmtree(output)
        launches.append(
            Launch(
                spec.request,
                output,
                label,
                run_environment(spec),
                spec.cwd,
                sink,
                umask=spec.umask,
                cpus=spec.cpus,
            )
        )
    return (scheduler or TrainingScheduler(sink)).submit_pool(launches, parallel).wait()
