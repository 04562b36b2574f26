"""`repro-vary`: retrain under varied environments and name the variation that changes the output.

Exit 0: reproducible under every variation; 1: a variation changed the output; 2: a usage error.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.cli.project_settings import ini_options
from pytest_repro.configs import read_yaml
from pytest_repro.contract import DEFAULT_TIMEOUT, SEED_RANGE_TEXT, RunRequest, is_seed, timeout_seconds
from pytest_repro.errors import EXIT_OK, EXIT_VERIFICATION_FAILED
from pytest_repro.paths import shown_path
from pytest_repro.report import ReportPathError, check_report_path, render_html, write_report
from pytest_repro.report.collect import vary_data
from pytest_repro.running.isolation import ProjectIsolation, tracking_mode
from pytest_repro.variations import (
    VARIATIONS,
    VariationError,
    VariationReport,
    detail_lines,
    parse_selection,
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
        request, names = _request_from_args(args)
        _check_html_path(args, request)
        report = _hunt(args, request, names)
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


def _check_html_path(args: argparse.Namespace, request: RunRequest) -> None:
    """Refuse a bad --html path before anything trains: a missing folder, a folder, an input, --json."""
    if args.html is None:
        return
    inputs = {
        "the training's config": request.config_path,
        "the project's pyproject.toml": Path.cwd() / "pyproject.toml",
        "the --json report": args.json,
    }
    check_report_path(args.html.absolute(), "--html", inputs)


def _write_html(args: argparse.Namespace, report: VariationReport) -> None:
    """The hunt as one self-contained HTML page (the same table and details, and the matrix)."""
    config = shown_path(Path(report.config))
    words = [PROG, "--vary", ",".join(report.selected), "--config", config]
    if report.seed is not None:
        words += ["--seed", str(report.seed)]
    data = vary_data(report, config=config, rerun=shlex.join(words))
    write_report(args.html, render_html(data))
    _notify(f"report: {shown_path(args.html)}")


def _hunt(args: argparse.Namespace, request: RunRequest, names: tuple[str, ...]) -> VariationReport:
    """Run auto mode in a temporary folder, kept (and named) with --keep."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PROG}-"))

    lock = threading.Lock()

    def relay(label: str, line: str) -> None:
        # Called from each run's reader thread: one whole line at a time.
        with lock:
            sys.stderr.write(f"[{label}] {line}\n")
            sys.stderr.flush()

    try:
        return run_variations(
            request,
            names,
            folder,
            project_root=Path.cwd(),
            tolerance=args.tolerance,
            sink=relay if args.verbose else None,
            notify=_notify,
            fail_portability=args.portability == "fail",
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
        help="training config (default: ini repro_config, else config.yaml)",
    )
    parser.add_argument(
        "--entry",
        default=None,
        metavar="MODULE:FUNCTION",
        help="entry point (default: ini repro_train of ./pyproject.toml)",
    )
    parser.add_argument(
        "--vary", default="all", metavar="all|NAME,NAME", help="variations to check (default: all)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed passed to every run (default: the config's)"
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.0, help="absolute tolerance for metrics (default 0)"
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
        choices=("info", "fail"),
        default="info",
        help="a portability variation (blas_kernel, simd, cpus) that changes the output: "
        "info (default: reported, exit 0) or fail (exit 1)",
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


def _request_from_args(args: argparse.Namespace) -> tuple[RunRequest, tuple[str, ...]]:
    ini = ini_options(Path.cwd())  # the same ini files, in the same order, as pytest and repro-hook
    entry = args.entry or ini.get("repro_train")
    if not entry:
        raise VariationError(
            "no entry point: pass --entry module:function or set repro_train in the project's ini file "
            "(pyproject.toml, pytest.ini, tox.ini or setup.cfg)"
        )
    if ":" not in entry:
        raise VariationError(f"--entry: got {entry!r}; expected module:function")
    config = args.config or Path(ini.get("repro_config") or "config.yaml")
    config = config if config.is_absolute() else Path.cwd() / config
    if not config.is_file():
        raise VariationError(f"--config: {config} is not a file")
    if args.json is not None and not args.json.absolute().parent.is_dir():
        raise VariationError(f"--json: folder {args.json.parent} does not exist")
    if config.suffix in (".yaml", ".yml"):
        # A YAML error is one line now, rather than the same failure relayed from every run.
        read_yaml(Path(shown_path(config)))
    if args.tolerance < 0:
        raise VariationError(f"--tolerance: got {args.tolerance}; expected a number ≥ 0")
    if args.seed is not None and not is_seed(args.seed):
        raise VariationError(f"--seed: got {args.seed}; expected {SEED_RANGE_TEXT}")
    timeout = _timeout(args.timeout, ini)
    request = RunRequest(entry, config, args.seed, timeout=timeout, project=_project_isolation(ini))
    return request, parse_selection(args.vary)


def _project_isolation(ini: dict[str, Any]) -> ProjectIsolation:
    """The runs' isolation from the project here: ini `repro_copy` and `repro_tracking`, as pytest reads them."""
    always_copy = ini.get("repro_copy", [])
    if isinstance(always_copy, str):  # an ini file's line list
        always_copy = [line.strip() for line in always_copy.splitlines() if line.strip()]
    try:
        tracking = tracking_mode(ini.get("repro_tracking", "run"))
    except ValueError as error:
        raise VariationError(f"ini repro_tracking: {error}") from None
    return ProjectIsolation(Path.cwd(), tuple(str(glob) for glob in always_copy), tracking)


def _timeout(option: str | None, ini: dict[str, Any]) -> float | None:
    """`--timeout` over the project's `repro_timeout` over the plugin's default, as in pytest."""
    if option is not None:
        text, source = option, "--timeout"
    elif "repro_timeout" in ini:
        text, source = str(ini["repro_timeout"]), "ini repro_timeout"
    else:
        return DEFAULT_TIMEOUT
    try:
        return timeout_seconds(text)
    except ValueError as error:
        raise VariationError(f"{source}: {error}") from None
