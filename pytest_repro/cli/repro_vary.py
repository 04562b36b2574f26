"""`repro-vary`: retrain under varied environments and name the variation that changes the output.

The training is the one the project's ini configures for `pytest --repro`, read through
the plugin's own settings (`project_settings.configured_training`): a function
(`repro_train`, or `--entry`) or a command (`repro_command` with `repro_outputs`, and
no config file needed), with `repro_seed`, `repro_tolerance`, `repro_timeout`,
`repro_copy` and `repro_tracking` as pytest reads them; this command line's options win.

Exit 0: reproducible under every variation; 1: a variation changed the output; 2: a usage error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.cli.project_settings import (
    Project,
    ProjectSources,
    configured_training,
    find_project,
    python_path,
)
from pytest_repro.core.config_files import read_yaml
from pytest_repro.core.paths import shown_path
from pytest_repro.core.timeouts import DEFAULT_TIMEOUT
from pytest_repro.errors import EXIT_OK, EXIT_VERIFICATION_FAILED
from pytest_repro.report import ReportPathError, check_report_path, render_html, write_report
from pytest_repro.report.gathering import vary_data
from pytest_repro.settings.table import DEFAULT_CONFIG, PORTABILITY_MODES, parse_variations, value_of
from pytest_repro.variations import (
    VARIATIONS,
    VariationError,
    VariationReport,
    detail_lines,
    rerun_command,
    run_variations,
    save_json,
    table_lines,
)

PROG = "repro-vary"


def main(argv: Sequence[str] | None = None) -> int:
    """`repro-vary`: exit 0 if every variation reproduces, 1 if one breaks it, 2 on a usage error."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): an exit code, not an exception
        return int(exc.code or 0)
    return run_cli(lambda: _vary(args))


def _vary(args: argparse.Namespace) -> int:
    """Hunt for the variation that changes the output, print the table and details, and write JSON."""
    try:
        settings, names, project = _settings_from_args(args)
        _check_html_path(args, settings.config_path, project)
        with _importable(python_path(project)):
            report = _hunt(args, settings, names, project.root)
    except (VariationError, ReportPathError) as exc:
        # The variations' own errors keep the command's name as their prefix (documented messages).
        _notify(str(exc))
        return exc.exit_code
    for line in table_lines(report) + detail_lines(report):
        print(line)
    if args.json is not None:
        save_json(report, args.json)
    if args.html is not None:
        _write_html(args, report)
    return EXIT_OK if report.reproducible else EXIT_VERIFICATION_FAILED


def _check_html_path(args: argparse.Namespace, config: Path, project: Project) -> None:
    """Refuse a bad --html path before anything trains: a missing folder, a folder, an input, --json."""
    if args.html is None:
        return
    inputs = {
        "the training's config": config,
        "the project's pyproject.toml": project.root / "pyproject.toml",
        "the --json report": args.json,
    }
    check_report_path(args.html.absolute(), "--html", inputs)


def _write_html(args: argparse.Namespace, report: VariationReport) -> None:
    """The hunt as one self-contained HTML page (the same table and details, and the matrix)."""
    config = shown_path(Path(report.config)) if Path(report.config).is_file() else "none"
    rerun = rerun_command(report, report.selected, Path.cwd(), fail_portability=args.portability == "fail")
    data = vary_data(report, config=config, rerun=rerun)
    write_report(args.html, render_html(data))
    _notify(f"report: {shown_path(args.html)}")


def _hunt(args: argparse.Namespace, settings: Any, names: tuple[str, ...], root: Path) -> VariationReport:
    """Run auto mode on the settings' training in a temporary folder, kept (and named) with --keep."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PROG}-"))

    lock = threading.Lock()

    def relay(label: str, line: str) -> None:
        # Called from each run's reader thread: one whole line at a time.
        with lock:
            sys.stderr.write(f"[{label}] {line}\n")
            sys.stderr.flush()

    try:
        return run_variations(
            settings.request(),
            names,
            folder,
            project_root=root,
            tolerance=settings.tolerance,
            sink=relay if args.verbose else None,
            notify=_notify,
            fail_portability=args.portability == "fail",
            ignore=settings.ignore,
        )
    finally:
        if args.keep:
            _notify(f"runs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _notify(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = make_parser(
        PROG,
        "Retrain under varied environments and name the variation that changes the output.\n"
        "The training is the one pytest --repro trains, read from the project's ini: a function\n"
        "(repro_train) or a command (repro_command with repro_outputs; no config file needed).\n"
        "First one run with everything varied at once; only if that differs, each variation alone.\n"
        "Exit 0: reproducible under every variation; 1: a variation changed the output; 2: usage error.",
    )
    parser.epilog = "variations:\n" + "\n".join(f"  {name:<11} {text}" for name, text in VARIATIONS.items())
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"training config (default: ini repro_config, else {DEFAULT_CONFIG}; a command may have none)",
    )
    parser.add_argument(
        "--entry",
        default=None,
        metavar="MODULE:FUNCTION",
        help="a function training's entry point (default: ini repro_train; a command training "
        "is ini repro_command with repro_outputs)",
    )
    parser.add_argument(
        "--vary", default="all", metavar="all|NAME,NAME", help="variations to check (default: all)"
    )
    parser.add_argument(
        "--seed",
        default=None,
        metavar="INT",
        help="seed passed to every run, a command's {seed} (default: ini repro_seed, else the config's)",
    )
    parser.add_argument(
        "--tolerance",
        default=None,
        metavar="FLOAT",
        help="absolute tolerance for metrics (default: ini repro_tolerance, else 0)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the report as JSON"
    )
    parser.add_argument(
        "--timeout",
        default=None,
        metavar="SECONDS",
        help="stop a run after this long, failing the hunt with its last output (default: the "
        f"project's repro_timeout, else {DEFAULT_TIMEOUT:g}; 0: no limit)",
    )
    parser.add_argument(
        "--portability",
        default=None,
        metavar="{" + ",".join(PORTABILITY_MODES) + "}",
        help="a portability variation (blas_kernel, simd, cpus) that changes the output: "
        "info (reported, exit 0) or fail (exit 1) (default: ini repro_portability, else info)",
    )
    parser.add_argument(
        "--html",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the report as one self-contained HTML page",
    )
    parser.add_argument("--keep", action="store_true", help="keep the runs' folders and print where they are")
    parser.add_argument("-v", "--verbose", action="store_true", help="relay every run's output to stderr")
    return parser


def _settings_from_args(args: argparse.Namespace) -> tuple[Any, tuple[str, ...], Project]:
    """The training's settings as pytest reads them from the project's ini, with this command line's over them.

    A function (`repro_train`, or `--entry`) or a command (`repro_command` with
    `repro_outputs`).  As under pytest, the project may have no config file (a command's
    ini names everything; a function may read its own); a `--config` given must exist.  A bad value is
    its setting's own line (`error: pyproject.toml: ini repro_seed: ...`, `error: --seed: ...`), exit 2.
    """
    if args.config is not None and not args.config.is_file():
        raise VariationError(f"--config: {args.config.absolute()} is not a file")
    if args.json is not None and not args.json.absolute().parent.is_dir():
        raise VariationError(f"--json: folder {args.json.parent} does not exist")
    names = parse_variations(args.vary or "all", "--vary")  # empty is unset, as for every setting
    project = find_project()  # the same ini file, found the same way, as pytest and repro-run
    given = {
        "train": (args.entry, "--entry"),
        "config": (str(args.config.absolute()) if args.config is not None else None, "--config"),
        "seed": (args.seed, "--seed"),
        "tolerance": (args.tolerance, "--tolerance"),
        "timeout": (args.timeout, "--timeout"),
    }
    # The hunt's own setting, resolved like the training's: --portability over ini repro_portability.
    args.portability = value_of(
        ProjectSources(project, {"portability": (args.portability, "--portability")}), "portability"
    )
    settings = configured_training(project, **given)
    config = settings.config_path
    if config.is_file() and config.suffix in (".yaml", ".yml"):
        # A YAML error is one line now, rather than the same failure relayed from every run.
        read_yaml(Path(shown_path(config)))
    return settings, names, project


@contextmanager
def _importable(folders: tuple[Path, ...]) -> Iterator[None]:
    """pytest's `pythonpath` folders first on `sys.path` while the runs start, as under pytest.

    Each run's PYTHONPATH is built from this process's `sys.path` (the launcher's
    `subprocess_environment`), so a function in `src/` imports as it does for the twins.
    """
    saved = list(sys.path)
    sys.path[:0] = [str(folder) for folder in folders]
    try:
        yield
    finally:
        sys.path[:] = saved
