"""`python -m pytest_repro.running.worker`: one isolated training run (started by the plugin, not by users)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from pytest_repro.core.entry_points import ContractError
from pytest_repro.core.environment_names import CONTRACT_VARIABLES
from pytest_repro.core.run_records import RunRequest
from pytest_repro.errors import ReproError
from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.running.command_training import CommandTraining, command_copy_folder, command_record_folder
from pytest_repro.running.isolation import (
    IsolatedRun,
    ProjectIsolation,
    flush_recorder_here,
    inputs_read,
    install_guard_here,
    recorded_events,
)
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
    # A run always has a project to keep read-only: by default, the folder it starts in.
    project = (
        ProjectIsolation.from_json(json.loads(args.project)) if args.project else ProjectIsolation(Path.cwd())
    )
    request = RunRequest(
        args.entry,
        args.config,
        args.seed,
        json.loads(args.overrides) if args.overrides else None,
        command,
        project=project,
    )
    try:
        if command is None:
            result, record = _train_function_guarded(request, project, args.output_dir)
            trained_in = project.root.resolve()
        else:
            result, record = train_once(request, args.output_dir), command_record_folder(args.output_dir)
            trained_in = command_copy_folder(args.output_dir).resolve()
    except ContractError as exc:
        write_json_atomic(args.record, {"contract_error": str(exc)})
        return 0
    except ReproError as exc:  # the training's own one-line error (a bad config): no traceback to relay
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_code
    events = recorded_events(record, trained_in, own=args.output_dir.parent)
    read = {event["detail"] for event in events.get("env", [])}
    write_json_atomic(
        args.record,
        {
            **result,
            "hashes": artifact_hashes(result),
            "variables_read": sorted(read & CONTRACT_VARIABLES),
            "events": events,
        },
    )
    return 0


def _train_function_guarded(
    request: RunRequest, project: ProjectIsolation, output_dir: Path
) -> tuple[dict[str, Any], Path]:
    """Train a function where pytest runs, with the project read-only; return its result and record folder.

    The write guard and the recorder are installed in this process and, through
    PYTHONPATH, in every Python process the training starts; the run gets its own
    temporary folder and tracking store (`IsolatedRun.in_place`).
    """
    run = IsolatedRun.in_place(project, output_dir)
    environment = run.environment(os.environ, Path.cwd())
    os.environ.clear()
    os.environ.update(environment)
    tempfile.tempdir = None  # the run's own TMPDIR from now on
    install_guard_here(run)
    root = project.root.resolve()

    def read_inputs(result: object) -> dict[str, str]:
        flush_recorder_here()  # this process's reads so far; the training's own processes have ended
        return inputs_read(recorded_events(run.record, root, own=output_dir.parent), root, root)

    try:
        result = train_once(request, output_dir, read_inputs)
    finally:
        flush_recorder_here()
        run.finish()
    return result, run.record


if __name__ == "__main__":
    end_with_parent()  # a session killed outright must not leave this run training on
    raise SystemExit(worker_main())
