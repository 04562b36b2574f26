"""`repro-check` and `scripts/reproducibility_check.py`: verify a lineage and write the design's report."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.cli.project_settings import configured_lineage
from pytest_repro.errors import EXIT_OK, EXIT_VERIFICATION_FAILED
from pytest_repro.lineage.checking import check
from pytest_repro.lineage.manifest import DEFAULT_LINEAGE
from pytest_repro.lineage.signing import UNVERIFIED, require_from_env


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check from the command line; exit 0 when every file matches, 1 otherwise."""
    parser = make_parser(
        "reproducibility_check.py", "Re-hash every file a lineage names and compare with its record."
    )
    parser.add_argument(
        "--lineage",
        type=Path,
        default=None,
        help=f"manifest to verify (default: ini repro_lineage, else {DEFAULT_LINEAGE})",
    )
    parser.add_argument("--no-report", action="store_true", help="do not write the report files")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="project root that every path in the lineage must stay inside (default: the project's rootdir, "
        "as pytest finds it, or for a lineage outside it the folder above the lineage's own folder)",
    )
    parser.add_argument(
        "--require-signature",
        action="store_true",
        help="fail unless the lineage's DSSE envelope verifies with the configured key "
        "(REPRO_SIGNING_KEY or REPRO_PUBLIC_KEY; also REPRO_REQUIRE_SIGNATURE=1)",
    )
    args = parser.parse_args(argv)

    def command() -> int:
        lineage, root = configured_lineage(args.lineage)
        report = check(
            lineage,
            write_reports=not args.no_report,
            project_root=args.root if args.root is not None else root,
            require_signature=args.require_signature or require_from_env(),
        )
        print(json.dumps(report.to_report(), indent=2, sort_keys=False))
        if report.signature == UNVERIFIED:
            print(
                f"note: {lineage} is signed but no key is set (REPRO_SIGNING_KEY, REPRO_PUBLIC_KEY); signature not verified",
                file=sys.stderr,
            )
        for failure in report.failures:
            print(f"FAILED {failure.describe()}", file=sys.stderr)
        return EXIT_OK if report.passed else EXIT_VERIFICATION_FAILED

    return run_cli(command)
