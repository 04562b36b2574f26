"""The reproducibility check: re-hash every file a lineage names and report, as the design describes.

`scripts/reproducibility_check.py` and the `repro-check` console script are thin
wrappers around `main`.  Verification itself is `training.lineage.verify_lineage`.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from training.artifacts import recover_interrupted_commit
from training.atomic import write_json_atomic
from training.cli import make_parser, run_cli
from training.errors import EXIT_OK, EXIT_VERIFICATION_FAILED
from training.lineage import VerificationReport, verify_lineage

DEFAULT_LINEAGE = Path("artifacts/lineage.json")
REPORT_NAME = "reproducibility_report.json"
ENVIRONMENT_NAME = "reproducibility_environment.json"


def check(lineage_path: Path, *, write_reports: bool = True) -> VerificationReport:
    """Verify `lineage_path` and write the report and environment files beside it."""
    if lineage_path.parent.is_dir():
        recover_interrupted_commit(lineage_path.parent)
    report = verify_lineage(lineage_path)
    if write_reports:
        write_json_atomic(lineage_path.parent / REPORT_NAME, report.to_report())
        write_json_atomic(lineage_path.parent / ENVIRONMENT_NAME, check_environment())
    return report


def check_environment() -> dict[str, str]:
    """Return the environment of the check itself (the design's fields)."""
    return {"python_version": sys.version, "platform": platform.platform(), "cwd": str(Path.cwd())}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check from the command line; exit 0 when every file matches, 1 otherwise."""
    parser = make_parser(
        "reproducibility_check.py", "Re-hash every file a lineage names and compare with its record."
    )
    parser.add_argument(
        "--lineage", type=Path, default=DEFAULT_LINEAGE, help="manifest to verify (default: %(default)s)"
    )
    parser.add_argument("--no-report", action="store_true", help="do not write the report files")
    args = parser.parse_args(argv)

    def command() -> int:
        report = check(args.lineage, write_reports=not args.no_report)
        print(json.dumps(report.to_report(), indent=2, sort_keys=False))
        for failure in report.failures:
            print(f"FAILED {failure.describe()}", file=sys.stderr)
        return EXIT_OK if report.passed else EXIT_VERIFICATION_FAILED

    return run_cli(command)
