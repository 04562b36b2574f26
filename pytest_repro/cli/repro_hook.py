"""`repro-hook`: the pre-commit hooks, validating configs and verifying the lineage before a commit.

`repro-hook config FILE...` validates each config with the project's own loader (the
ini setting `repro_config_loader`, e.g. `mypackage.config:load_config`, or `--loader`),
or parses it as strict YAML when the project sets none.
`repro-hook lineage` runs the reproducibility check (`pytest_repro.lineage.checking.check`:
the signature if any, then `verify_lineage` on every file the manifest names).
With `--changed FILE...` (the pre-commit hooks pass every changed file), each hook
first keeps the files that concern it, from the project's own settings and lineage
(`changed_files`), and passes at once when there are none.  Both read the project's
ini settings as pytest finds them (`repro_lineage`, `repro_config`, `repro_outputs`...).
Exit codes are those of every command line (`pytest_repro.cli.common.run_cli`): 0 when
all is well, 1 when the lineage does not match the files (or is missing), 2 for a usage
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

from pytest_repro.cli.changed_files import config_files, lineage_files
from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.cli.project_settings import (
    configured_lineage,
    configured_pins,
    find_project,
    read_project_settings,
)
from pytest_repro.core.config_files import read_yaml
from pytest_repro.core.entry_points import load_entry_point
from pytest_repro.errors import EXIT_OK, EXIT_VERIFICATION_FAILED, ConfigError, Problem, ReproError
from pytest_repro.lineage.checking import check
from pytest_repro.lineage.manifest import DEFAULT_LINEAGE
from pytest_repro.lineage.signing import UNVERIFIED, require_from_env


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
    config.add_argument(
        "--changed",
        action="store_true",
        help="FILE... are the files a commit changes (pre-commit passes them all): validate those that "
        "are the training config (ini repro_config) or are named config*.yaml / config*.yml",
    )
    config.add_argument(
        "--loader",
        default=None,
        metavar="MODULE:FUNCTION",
        help="the project's validating config loader (default: ini repro_config_loader; else plain YAML)",
    )
    config.set_defaults(run=_config_command)

    lineage = commands.add_parser(
        "lineage",
        help="verify that the artifacts still match their lineage",
        description=(
            "Re-hash every file the lineage manifest names (config, dataset, artifacts) and name each "
            "one that differs. File arguments are ignored, unless --changed says they are the files a "
            "commit changes: then the whole lineage is verified when one of them is an input or output "
            "it records, the config, the pin registry, a file repro_outputs matches, or the lineage."
        ),
    )
    lineage.add_argument(
        "--lineage",
        type=Path,
        default=None,
        help=f"manifest to verify (default: ini repro_lineage, else {DEFAULT_LINEAGE})",
    )
    lineage.add_argument(
        "--changed",
        action="store_true",
        help="FILE... are the files a commit changes (pre-commit passes them all): verify only when "
        "one of them concerns the lineage",
    )
    lineage.add_argument(
        "--require-signature",
        action="store_true",
        help="fail unless the lineage's DSSE envelope verifies with the configured key "
        "(REPRO_SIGNING_KEY or REPRO_PUBLIC_KEY; also REPRO_REQUIRE_SIGNATURE=1)",
    )
    lineage.add_argument("files", nargs="*", metavar="FILE", help="changed files (see --changed)")
    lineage.set_defaults(run=_lineage_command)

    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.run
    return run_cli(lambda: command(args))


def _config_command(args: argparse.Namespace) -> int:
    # Every file is read before reporting, so one commit shows every problem at once.
    settings = read_project_settings(find_project(), config_loader=(args.loader, "--loader"))
    files = config_files(args.files, settings) if args.changed else args.files
    if not files:
        print("repro-hook config: no changed file is a training config of this project")
        return EXIT_OK
    loader_name = settings.config_loader
    loader = load_entry_point(loader_name, "repro_config_loader") if loader_name else read_yaml
    problems: list[Problem] = []
    for name in files:
        try:
            loader(Path(name))
        except ConfigError as error:
            problems.extend(error.problems)
        except ReproError as error:
            problems.append(Problem(name, "", str(error)))
        except Exception as error:  # the project's own loader: its failure is the file's problem
            problems.append(Problem(name, "", f"{loader_name} raised {type(error).__name__}: {error}"))
    if problems:
        raise ConfigError(problems)
    how = f"with {loader_name}" if loader_name else "as YAML (no repro_config_loader set)"
    print(f"repro-hook config: {len(files)} config file(s) valid {how}")
    return EXIT_OK


def _lineage_command(args: argparse.Namespace) -> int:
    lineage, root = configured_lineage(args.lineage)
    where = lineage.as_posix()
    if args.changed:
        project = find_project()
        concerned = lineage_files(
            args.files, read_project_settings(project), lineage, configured_pins(project)
        )
        if not concerned:
            print(f"repro-hook lineage: no changed file is an input, output or config {where} concerns")
            return EXIT_OK
    # No manifest may reach outside the project (pre-commit runs hooks from the repository root).
    result = check(
        lineage,
        write_reports=False,
        project_root=root,
        require_signature=args.require_signature or require_from_env(),
    )
    if result.signature == UNVERIFIED:
        print(
            f"note: {where} is signed but no key is set (REPRO_SIGNING_KEY, REPRO_PUBLIC_KEY); signature not verified",
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
        "retrain to record the change, or undo it",
        file=sys.stderr,
    )
    return EXIT_VERIFICATION_FAILED
