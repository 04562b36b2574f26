"""`python -m training`: the demo's command line, on the plugin's parser and its mapping of errors to exit codes."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli import make_parser, run_cli
from training.run import check_inside_project, train


def _integer(text: str, low: int | None = None) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = None
    if value is None or (low is not None and value < low):
        noun = "a positive integer" if low else "an integer"
        raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}")
    return value


def train_main(argv: Sequence[str] | None = None) -> int:
    """Train with a config and write the artifacts and their lineage; exit 0, or 1/2 with one line."""
    parser = make_parser("python -m training", "Train the configured models and write artifacts.")
    parser.add_argument("--config", default="config.yaml", help="config file (default: %(default)s)")
    parser.add_argument(
        "--output-dir", help="artifact folder, inside the config's folder (default: artifacts.model_dir)"
    )
    parser.add_argument("--seed", type=_integer, help="override the config's seed")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    jobs = (
        "threads for the cross-validation fits (default: REPRO_WORKERS, else every core); any N, same bytes"
    )
    parser.add_argument("--jobs", type=lambda text: _integer(text, low=1), metavar="N", help=jobs)
    args = parser.parse_args(argv)

    def command() -> int:
        config = Path(args.config)
        if args.output_dir is not None and config.is_file():  # a missing config is named by train
            # Published for people to verify, so inside the project, unlike train()'s output_dir.
            where = {"--output-dir": (args.output_dir, Path(args.output_dir))}
            check_inside_project("<command line>", config.resolve().parent, where)
        started = time.perf_counter()
        record = train(config, args.output_dir, seed=args.seed, jobs=args.jobs, quiet=args.quiet)
        if not args.quiet:  # each model's CV ROC AUC was printed as it was measured
            _summarise(record["metrics"], Path(record["lineage"]).parent, time.perf_counter() - started)
        return 0

    return run_cli(command)


def _summarise(metrics: dict, folder: Path, seconds: float) -> None:
    scores, chosen = metrics["test"], metrics["threshold"]
    test = "  ".join(f"{k} {scores[k]:.4f}" for k in ("precision", "recall", "f1", "roc_auc", "pr_auc"))
    missed = "" if chosen["target_met"] else f" (target precision {chosen['target_precision']} NOT met)"
    print(f"selected {metrics['selected_model']}, threshold {chosen['value']:.6g}{missed}; test: {test}")
    print(f"artifacts: {folder} (trained in {seconds:.1f}s)")
