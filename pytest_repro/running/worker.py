"""`python -m pytest_repro.running.worker`: one isolated training run (started by the plugin, not by users)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from pytest_repro.contract import ContractError, RunRequest
from pytest_repro.errors import ReproError
from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.running.command_training import CommandTraining
from pytest_repro.running.environ_reads import variables_read, watch_environ
from pytest_repro.running.isolation import IsolatedRun, ProjectIsolation, install_guard_here
from pytest_repro.running.launcher import artifact_hashes, train_once


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
            result = _train_function_in_copy(request, project, args.output_dir)
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


def _train_function_in_copy(request: RunRequest, project: ProjectIsolation, output_dir: Path) -> dict:
    """Train a function in a copy of the project, as a command trains: the copy is its project.

    The working directory, the import path and the config move into the copy when they
    lie in the project; the write guard is installed in this process (and, through
    PYTHONPATH, in every Python process the training starts).
    """
    run = IsolatedRun.prepare(project, output_dir.parent / f"{output_dir.name}.project")
    here = Path.cwd()
    moved = run.in_copy(here)
    if moved != here and moved.is_dir():
        os.chdir(moved)
    sys.path[:] = [
        str(run.in_copy(entry)) if entry and run.in_copy(entry).exists() else entry for entry in sys.path
    ]
    environment = run.environment(os.environ, Path.cwd())
    os.environ.clear()
    os.environ.update(environment)
    tempfile.tempdir = None  # the run's own TMPDIR from now on
    install_guard_here(run)
    watch_environ()  # after the environment is replaced: it watches os.environ's own class
    config = run.in_copy(request.config_path)
    try:
        result = train_once(
            replace(request, config_path=config if config.exists() else request.config_path), output_dir
        )
    finally:
        run.finish()
    return result


if __name__ == "__main__":
    raise SystemExit(worker_main())
