"""Train the hunt's run specs through the plugin's one launcher, a bounded number at a time."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from pytest_repro.core.core_count import available_cores
from pytest_repro.core.entry_points import ContractError
from pytest_repro.core.run_records import RunRecord
from pytest_repro.running.launcher import (
    ProgressSink,
    RunningTraining,
    TrainingFailed,
    subprocess_environment,
)
from pytest_repro.variations.specs import RunSpec

RunResult = RunRecord | TrainingFailed | ContractError


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
) -> dict[str, RunResult]:
    """Train each spec in a fresh interpreter, at most `parallel` at a time; failures are returned.

    The hunt needs a cwd and umask per run, a bound on concurrency (the cores this
    process may use, so CPU affinity is honoured) and every failure kept, so it drives
    `RunningTraining` itself.  Each run is held to the request's timeout
    (`repro_timeout`), like the twins.
    """
    limit = parallel or max(2, available_cores())
    pending = list(specs.items())
    running: dict[str, RunningTraining] = {}
    results: dict[str, RunResult] = {}
    try:
        while pending or running:
            while pending and len(running) < limit:
                label, spec = pending.pop(0)
                started = _start(label, spec, folder / label, sink)
                if isinstance(started, RunningTraining):
                    running[label] = started
                else:
                    results[label] = started
            # A run past its limit (repro_timeout) is "finished" too: wait() stops it and says so.
            finished = [
                label for label, run in running.items() if run.process.poll() is not None or _overdue(run)
            ]
            if not finished:
                for run in running.values():
                    run.say_if_quiet()
                time.sleep(0.02)
            for label in finished:
                try:
                    results[label] = running.pop(label).wait()
                except (TrainingFailed, ContractError) as exc:
                    results[label] = exc
    finally:
        for run in running.values():
            run.kill()
    return {label: results[label] for label in specs}


def _overdue(run: RunningTraining) -> bool:
    return run.timeout is not None and time.perf_counter() - run.started >= run.timeout


def _start(
    label: str, spec: RunSpec, output: Path, sink: ProgressSink | None
) -> RunningTraining | TrainingFailed:
    """Start one run in a fresh output folder; a run that cannot start is a failure, not an error."""
    if output.exists():
        shutil.rmtree(output)
    try:
        return RunningTraining(
            spec.request,
            output,
            label,
            run_environment(spec),
            sink,
            spec.cwd,
            umask=spec.umask,
            cpus=spec.cpus,
        )
    except OSError as exc:
        return TrainingFailed(label, f"could not start: {exc}", "")
