"""`python -m pytest_repro.running.worker`: one isolated training run (started by the plugin, not by users)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_repro.contract import ContractError, RunRequest, call_entry_point
from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.running.launcher import with_recorded_lineage


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
    args = parser.parse_args(argv)
    request = RunRequest(
        args.entry, args.config, args.seed, json.loads(args.overrides) if args.overrides else None
    )
    try:
        result = with_recorded_lineage(request, args.output_dir, call_entry_point(request, args.output_dir))
    except ContractError as exc:
        write_json_atomic(args.record, {"contract_error": str(exc)})
        return 0
    write_json_atomic(args.record, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(worker_main())
