"""`python -m pytest_repro.running.worker`: one isolated training run (started by the plugin, not by users)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pytest_repro.contract import ContractError, RunRequest
from pytest_repro.errors import ReproError
from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.running.command_training import CommandTraining
from pytest_repro.running.environ_reads import variables_read, watch_environ
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
    args = parser.parse_args(argv)
    command = CommandTraining.from_json(json.loads(args.command)) if args.command else None
    request = RunRequest(
        args.entry, args.config, args.seed, json.loads(args.overrides) if args.overrides else None, command
    )
    if command is None:  # a command's own process is out of sight: what it reads stays unknown
        watch_environ()
    try:
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


if __name__ == "__main__":
    end_with_parent()  # a session killed outright must not leave this run training on
    raise SystemExit(worker_main())
