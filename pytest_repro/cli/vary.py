"""`repro-vary`: retrain under varied environments and name the variation that changes the output.

Exit 0: reproducible under every variation; 1: a variation changed the output; 2: a usage error.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_repro.running.launcher import RunRequest
from pytest_repro.variations.catalogue import (
    VARIATIONS,
    VariationError,
    detail_lines,
    parse_selection,
    run_variations,
    save_json,
    table_lines,
)


def main(argv: Sequence[str] | None = None) -> int:
    """`repro-vary`: exit 0 if every variation reproduces, 1 if one breaks it, 2 on a usage error."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        request, names = _request_from_args(args)
    except VariationError as exc:
        print(f"repro-vary: {exc}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="repro-vary-"))

    def notify(message: str) -> None:
        print(f"repro-vary: {message}", file=sys.stderr, flush=True)

    def relay(label: str, line: str) -> None:
        print(f"[{label}] {line}", file=sys.stderr, flush=True)

    try:
        report = run_variations(
            request,
            names,
            folder,
            project_root=Path.cwd(),
            tolerance=args.tolerance,
            sink=relay if args.verbose else None,
            notify=notify,
        )
    except VariationError as exc:
        print(f"repro-vary: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            notify(f"runs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    for line in table_lines(report) + detail_lines(report):
        print(line)
    if args.json is not None:
        save_json(report, args.json)
    return 0 if report.reproducible else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repro-vary",
        description=(
            "Retrain under varied environments and name the variation that changes the output.\n"
            "First one run with everything varied at once; only if that differs, each variation alone.\n"
            "Exit 0: reproducible under every variation; 1: a variation changed the output; 2: usage error."
        ),
        epilog="variations:\n" + "\n".join(f"  {name:<10} {text}" for name, text in VARIATIONS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    parser.add_argument("--keep", action="store_true", help="keep the runs' folders and print where they are")
    parser.add_argument("-v", "--verbose", action="store_true", help="relay every run's output to stderr")
    return parser


def _request_from_args(args: argparse.Namespace) -> tuple[RunRequest, tuple[str, ...]]:
    ini = _ini_options(Path.cwd() / "pyproject.toml")
    entry = args.entry or ini.get("repro_train")
    if not entry:
        raise VariationError(
            "no entry point: pass --entry module:function or set repro_train in ./pyproject.toml"
        )
    if ":" not in entry:
        raise VariationError(f"--entry: got {entry!r}; expected module:function")
    config = args.config or Path(ini.get("repro_config") or "config.yaml")
    config = config if config.is_absolute() else Path.cwd() / config
    if not config.is_file():
        raise VariationError(f"--config: {config} is not a file")
    if args.tolerance < 0:
        raise VariationError(f"--tolerance: got {args.tolerance}; expected a number ≥ 0")
    if args.seed is not None and not 0 <= args.seed <= 2**32 - 1:
        raise VariationError(f"--seed: got {args.seed}; expected an integer in [0, 2**32 - 1]")
    return RunRequest(entry, config, args.seed), parse_selection(args.vary)


def _ini_options(pyproject: Path) -> dict[str, Any]:
    """Read `[tool.pytest.ini_options]` of a pyproject.toml (empty when absent or unreadable)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: pytest depends on the backport
        import tomli as tomllib
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    options = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
    return options if isinstance(options, dict) else {}
