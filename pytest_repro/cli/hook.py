"""`repro-hook`: the pre-commit hooks, validating configs and verifying the lineage before a commit.

`repro-hook config FILE...` validates each training config with `load_config`;
`repro-hook lineage` runs the reproducibility check (`pytest_repro.lineage.check.check`: the
signature if any, then `verify_lineage` on every file the manifest names).
Exit codes are those of every entry point (`training.cli.run_cli`): 0 when all is
well, 1 when the lineage does not match the files (or is missing), 2 for a usage
or configuration error.

The lineage hook writes no report: pre-commit counts a hook that modifies tracked
files as failed, and a user who commits `artifacts/` would see the check's report
files as modifications.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.errors import EXIT_OK, EXIT_VERIFICATION_FAILED, ConfigError, Problem
from pytest_repro.lineage.check import check
from pytest_repro.lineage.manifest import DEFAULT_LINEAGE
from pytest_repro.lineage.signing import UNVERIFIED, require_from_env
from training.config import load_config


def main(argv: Sequence[str] | None = None) -> int:
    """Run `repro-hook COMMAND`; see `repro-hook --help`."""
    parser = make_parser(
        "repro-hook",
        "pre-commit hooks of pytest-repro. Exit codes: 0 ok, 1 lineage mismatch or missing, "
        "2 usage or configuration error.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    config = commands.add_parser(
        "config",
        help="validate training config files",
        description="Validate each training config file; print every problem as FILE: KEY: message.",
    )
    config.add_argument("files", nargs="+", metavar="FILE", help="config files to validate")
    config.set_defaults(run=_config_command)

    lineage = commands.add_parser(
        "lineage",
        help="verify that the artifacts still match their lineage",
        description=(
            "Re-hash every file the lineage manifest names (config, dataset, artifacts) and name each "
            "one that differs. File arguments are accepted and ignored: any change to a config, "
            "dataset or artifact calls for a full verification."
        ),
    )
    lineage.add_argument(
        "--lineage", type=Path, default=DEFAULT_LINEAGE, help="manifest to verify (default: %(default)s)"
    )
    lineage.add_argument(
        "--require-signature",
        action="store_true",
        help="fail unless the lineage's DSSE envelope verifies with REPRO_SIGNING_KEY "
        "(also REPRO_REQUIRE_SIGNATURE=1)",
    )
    lineage.add_argument("files", nargs="*", metavar="FILE", help="changed files (ignored)")
    lineage.set_defaults(run=_lineage_command)

    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.run
    return run_cli(lambda: command(args))


def _config_command(args: argparse.Namespace) -> int:
    # Every file is read before reporting, so one commit shows every problem at once.
    problems: list[Problem] = []
    for name in args.files:
        try:
            load_config(name)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    print(f"repro-hook config: {len(args.files)} config file(s) valid")
    return EXIT_OK


def _lineage_command(args: argparse.Namespace) -> int:
    # pre-commit runs hooks from the repository root: no manifest may reach outside it.
    result = check(
        args.lineage,
        write_reports=False,
        project_root=Path.cwd(),
        require_signature=args.require_signature or require_from_env(),
    )
    where = args.lineage.as_posix()
    if result.signature == UNVERIFIED:
        print(
            f"note: {where} is signed but REPRO_SIGNING_KEY is not set; signature not verified",
            file=sys.stderr,
        )
    checks = result.report.checks
    if result.passed:
        print(f"repro-hook lineage: all {len(checks)} files match {where}")
        return EXIT_OK
    for failure in result.failures:
        print(f"FAILED {failure.describe()}", file=sys.stderr)
    print(
        f"repro-hook lineage: {len(result.failures)} of {len(checks)} files differ from {where}; "
        "retrain (python -m training) to record the change, or undo it",
        file=sys.stderr,
    )
    return EXIT_VERIFICATION_FAILED
