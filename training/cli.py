"""Command-line entry points, and the one place where errors become exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from training.errors import EXIT_OK, EXIT_USAGE, ReproError

EXIT_INTERRUPTED = 130


def run_cli(command: Callable[[], int]) -> int:
    """Run a command, turning project errors into one line each and their documented exit code.

    2 means a usage or configuration error, 1 a verification failure, 0 success.
    No traceback reaches the user for an error the project knows about.
    """
    try:
        return command()
    except ReproError as error:
        for line in error.lines():
            print(f"error: {line}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted; previous artifacts were left as they were", file=sys.stderr)
        return EXIT_INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit with the project's usage code (2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message}\n")


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """Return an argument parser with the project's error convention."""
    return _Parser(prog=prog, description=description)


def seed_type(text: str) -> int:
    """Parse a --seed value; the range itself is checked by the config schema."""
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def train_main(argv: Sequence[str] | None = None) -> int:
    """`python -m training`: train with a config and write artifacts and lineage."""
    parser = make_parser("python -m training", "Train the configured models and write artifacts.")
    parser.add_argument("--config", default="config.yaml", help="config file (default: %(default)s)")
    parser.add_argument(
        "--output-dir", default=None, help="artifact folder (default: artifacts.model_dir of the config)"
    )
    parser.add_argument("--seed", type=seed_type, default=None, help="override the config's seed")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)

    def command() -> int:
        from training.progress import Progress
        from training.run import train

        result = train(args.config, args.output_dir, seed=args.seed, progress=Progress(quiet=args.quiet))
        if not args.quiet:
            print(summarize(result.metrics, result.seconds))
            print(f"artifacts: {result.output_dir}")
        return EXIT_OK

    return run_cli(command)


def summarize(metrics: dict, seconds: float) -> str:
    """Return the human summary of a run: each model's CV ROC AUC, the choice and the test metrics."""
    lines = ["model                 CV ROC AUC (mean ± std)"]
    for name, cv in metrics["cv"].items():
        mark = "  <- selected" if name == metrics["selected_model"] else ""
        lines.append(f"{name:<21} {cv['mean_roc_auc']:.4f} ± {cv['std_roc_auc']:.4f}{mark}")
    threshold, test = metrics["threshold"], metrics["test"]
    met = "met" if threshold["target_met"] else "NOT met"
    lines.append(
        f"threshold {threshold['value']:.6g} ({metrics['score_kind']}), "
        f"target precision {threshold['target_precision']} {met} on out-of-fold scores"
    )
    lines.append(
        f"test: precision {test['precision']:.4f}  recall {test['recall']:.4f}  f1 {test['f1']:.4f}  "
        f"roc_auc {test['roc_auc']:.4f}  pr_auc {test['pr_auc']:.4f}"
    )
    lines.append(f"trained in {seconds:.1f}s")
    return "\n".join(lines)
