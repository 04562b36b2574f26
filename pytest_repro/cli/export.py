"""`repro-export`: write a verified lineage as in-toto provenance or SHA256SUMS."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.errors import EXIT_OK, ConfigError, Problem
from pytest_repro.lineage.atomic import canonical_json, write_bytes_atomic
from pytest_repro.lineage.export import (
    BUILDER_ID,
    VerifiedLineage,
    intoto_statement,
    load_verified,
    sha256sums,
)
from pytest_repro.lineage.manifest import DEFAULT_LINEAGE
from pytest_repro.lineage.signing import envelope_path, key_from_env, require_from_env


def main(argv: Sequence[str] | None = None) -> int:
    """Run `repro-export`; exit 0 on success, 1 when the lineage does not verify, 2 on usage errors."""
    parser = make_parser("repro-export", "Export a verified lineage as in-toto provenance or SHA256SUMS.")
    commands = parser.add_subparsers(dest="format", required=True, metavar="{intoto,sha256sums}")
    for name, summary in (
        ("intoto", "in-toto Statement v1 with a SLSA Provenance v1 predicate (JSON)"),
        ("sha256sums", "SHA256SUMS lines that `sha256sum -c` accepts, run from the output's folder"),
    ):
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument(
            "--lineage", type=Path, default=DEFAULT_LINEAGE, help="manifest to export (default: %(default)s)"
        )
        command.add_argument(
            "--output", type=Path, default=None, help="file to write (default: standard output)"
        )
        command.add_argument(
            "--require-signature",
            action="store_true",
            help="fail unless the lineage carries a valid signature (also REPRO_REQUIRE_SIGNATURE=1)",
        )
        if name == "intoto":
            command.add_argument(
                "--builder-id", default=BUILDER_ID, help="runDetails.builder.id URI (default: %(default)s)"
            )
    args = parser.parse_args(argv)

    def run() -> int:
        verified = load_verified(
            args.lineage,
            signing_key=key_from_env(),
            require_signature=args.require_signature or require_from_env(),
            project_root=Path.cwd(),
        )
        _refuse_overwriting_the_lineage(args.output, verified)
        if args.format == "intoto":
            data = canonical_json(intoto_statement(verified, builder_id=args.builder_id))
        else:
            folder = args.output.resolve().parent if args.output is not None else Path.cwd()
            data = sha256sums(verified, folder).encode("utf-8")
        _write(args.output, data)
        return EXIT_OK

    return run_cli(run)


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
