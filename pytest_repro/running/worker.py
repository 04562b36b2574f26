"""`python -m pytest_repro.running.worker`: one isolated training run (started by the plugin, not by users)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from pytest_repro.contract import ContractError, RunRequest
from pytest_repro.errors import ReproError
from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.running.command_training import CommandTraining
from pytest_repro.running.environ_reads import variables_read, watch_environ
from pytest_repro.running.isolation import IsolatedRun, ProjectIsolation, install_guard_here
from pytest_repro.running.launcher import artifact_hashes, train_once
from pytest_repro.running.parent_watch import end_with_parent


def worker_main(argv: list[str] | None = None) -> int:
    """Subprocess side: call the entry point and write the run record next to the output folder."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pytest_repro.running.worker")
    parser.add_argument("--entry", required=True)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument("--record", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--overrides", default=None)
    parser.add_argument("--command", default=None, help="a command training, as JSON")
    parser.add_argument("--project", default=None, help="the project's isolation, as JSON")
    args = parser.parse_args(argv)
    command = CommandTraining.from_json(json.loads(args.command)) if args.command else None
    project = ProjectIsolation.from_json(json.loads(args.project)) if args.project else None
    request = RunRequest(
        args.entry,
        args.config,
        args.seed,
        json.loads(args.overrides) if args.overrides else None,
        command,
        project=project,
    )
    if command is None and project is None:  # a command's own process is out of sight
        watch_environ()
    try:
        if command is None and project is not None:
            result = _train_function_guarded(request, project, args.output_dir)
        else:
            result = train_once(request, args.output_dir)
    except ContractError as exc:
        write_json_atomic(args.record, {"contract_error": str(exc)})
        return 0
    except ReproError as exc:  # the training's own one-line error (a bad config): no traceback to relay
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_code
    variables = variables_read() if command is None else None
    write_json_atomic(args.record, {**result, "hashes": artifact_hashes(result), "variables_read": variables})
    return 0


def _train_function_guarded(request: RunRequest, project: ProjectIsolation, output_dir: Path) -> dict:
    """Train a function where pytest runs, with the project read-only: the write guard in this process.

    Through PYTHONPATH the guard reaches every Python process the training starts too;
    the run gets its own temporary folder and tracking store (`IsolatedRun.in_place`).
    """
    run = IsolatedRun.in_place(project, output_dir)
    environment = run.environment(os.environ, Path.cwd())
    os.environ.clear()
    os.environ.update(environment)
    tempfile.tempdir = None  # the run's own TMPDIR from now on
    install_guard_here(run)
    watch_environ()
    try:
        return train_once(request, output_dir)
    finally:
        run.finish()


if __name__ == "__main__":
    end_with_parent()  # a session killed outright must not leave this run training on
    raise SystemExit(worker_main())
