"""`repro-export`: write a verified lineage as in-toto provenance, SHA256SUMS or a dvc.lock, or log it to MLflow."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.cli.project_settings import configured_lineage
from pytest_repro.errors import EXIT_OK, ConfigError, Problem
from pytest_repro.lineage.atomic import canonical_json, write_bytes_atomic
from pytest_repro.lineage.dvc_export import DEFAULT_STAGE, dvc_lock, lock_yaml
from pytest_repro.lineage.export import (
    BUILDER_ID,
    VerifiedLineage,
    intoto_statement,
    load_verified,
    sha256sums,
)
from pytest_repro.lineage.manifest import DEFAULT_LINEAGE
from pytest_repro.lineage.mlflow_export import DEFAULT_EXPERIMENT, log_to_mlflow, mlflow_record
from pytest_repro.lineage.signing import envelope_path, key_from_env, require_from_env

FORMATS = {
    "intoto": "in-toto Statement v1 with a SLSA Provenance v1 predicate (JSON)",
    "sha256sums": "SHA256SUMS lines that `sha256sum -c` accepts, run from the output's folder",
    "dvc": "a dvc.lock with one stage (schema 2.0, MD5 per file), for the folder of dvc.yaml",
    "mlflow": "log to a new MLflow run: tags, params, metrics, dataset inputs, the lineage as artifacts",
}


MLFLOW_CLIENT_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run `repro-export`; exit 0 on success, 1 when the lineage does not verify, 2 on usage errors."""
    parser = make_parser(
        "repro-export",
        "Export a verified lineage as in-toto provenance, SHA256SUMS, a dvc.lock, or to MLflow.",
    )
    commands = parser.add_subparsers(dest="format", required=True, metavar="{" + ",".join(FORMATS) + "}")
    for name, summary in FORMATS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument(
            "--lineage",
            type=Path,
            default=None,
            help=f"manifest to export (default: ini repro_lineage, else {DEFAULT_LINEAGE})",
        )
        if name != "mlflow":
            command.add_argument(
                "--output", type=Path, default=None, help="file to write (default: standard output)"
            )
        command.add_argument(
            "--require-signature",
            action="store_true",
            help="fail unless the lineage carries a valid signature (also REPRO_REQUIRE_SIGNATURE=1)",
        )
        _add_format_options(name, command)
    args = parser.parse_args(argv)

    def run() -> int:
        lineage, root = configured_lineage(args.lineage)
        verified = load_verified(
            lineage,
            signing_key=key_from_env(),
            require_signature=args.require_signature or require_from_env(),
            project_root=root,
        )
        if args.format == "mlflow":
            # MLflow retries an unreachable server 7 times with doubling waits (minutes);
            # a command line should fail within seconds unless the user asks otherwise.
            for name, value in MLFLOW_CLIENT_DEFAULTS.items():
                os.environ.setdefault(name, value)
            run_id, notes = log_to_mlflow(
                mlflow_record(verified),
                experiment=args.experiment,
                tracking_uri=args.tracking_uri,
                run_name=args.run_name,
            )
            for note in notes:
                print(f"note: {note}", file=sys.stderr)
            print(f"logged {lineage.as_posix()} to MLflow run {run_id} (experiment {args.experiment!r})")
            return EXIT_OK
        _refuse_overwriting_the_lineage(args.output, verified)
        folder = args.output.resolve().parent if args.output is not None else Path.cwd()
        if args.format == "intoto":
            data = canonical_json(intoto_statement(verified, builder_id=args.builder_id))
        elif args.format == "dvc":
            data = lock_yaml(dvc_lock(verified, folder, stage=args.stage, cmd=args.cmd))
        else:
            data = sha256sums(verified, folder).encode("utf-8")
        _write(args.output, data)
        return EXIT_OK

    return run_cli(run)


def _add_format_options(name: str, command: argparse.ArgumentParser) -> None:
    if name == "intoto":
        command.add_argument(
            "--builder-id", default=BUILDER_ID, help="runDetails.builder.id URI (default: %(default)s)"
        )
    elif name == "dvc":
        command.add_argument(
            "--cmd",
            required=True,
            help="the stage's command, exactly as in dvc.yaml (e.g. 'python train.py')",
        )
        command.add_argument("--stage", default=DEFAULT_STAGE, help="the stage's name (default: %(default)s)")
    elif name == "mlflow":
        command.add_argument(
            "--experiment", default=DEFAULT_EXPERIMENT, help="experiment to log to (default: %(default)s)"
        )
        command.add_argument(
            "--tracking-uri", default=None, help="tracking server or store (default: MLFLOW_TRACKING_URI)"
        )
        command.add_argument("--run-name", default=None, help="the run's name (default: MLflow picks one)")


def _refuse_overwriting_the_lineage(output: Path | None, verified: VerifiedLineage) -> None:
    """An export describes the lineage and its files; writing it over one of them would destroy what it describes."""
    if output is None:
        return
    target = output.resolve()
    described = {
        verified.path.resolve(): "the lineage",
        envelope_path(verified.path).resolve(): "its envelope",
    }
    described.update({verified.resolve(item): f"lineage entry {item.name!r}" for item in verified.entries})
    if target in described:
        raise ConfigError(
            [Problem("--output", "", f"{output} is {described[target]}; write the export to another file")]
        )


def _write(output: Path | None, data: bytes) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_bytes_atomic(output, data)


if __name__ == "__main__":
    raise SystemExit(main())
