"""`python -m training`: the demo's command line, on the plugin's parser and its one mapping of errors to exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli import make_parser, run_cli


def _integer(low: int | None) -> object:
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or (low is not None and value < low):
            raise argparse.ArgumentTypeError(
                f"expected {'a positive integer' if low else 'an integer'}, got {text!r}"
            )
        return value

    return parse


def train_main(argv: Sequence[str] | None = None) -> int:
    """Train with a config and write the artifacts and their lineage; exit 0, or 1/2 with one line."""
    parser = make_parser("python -m training", "Train the configured models and write artifacts.")
    parser.add_argument("--config", default="config.yaml", help="config file (default: %(default)s)")
    parser.add_argument(
        "--output-dir", help="artifact folder, inside the config's folder (default: artifacts.model_dir)"
    )
    parser.add_argument("--seed", type=_integer(None), help="override the config's seed")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument(
        "--jobs",
        type=_integer(1),
        metavar="N",
        help="processes for the cross-validation fits (default: REPRO_WORKERS, else every core); any N, same bytes",
    )
    args = parser.parse_args(argv)

    def command() -> int:
        from training.run import check_inside_project, train

        config = Path(args.config)
        if args.output_dir is not None and config.is_file():  # a missing config is named by train
            # Published for people to verify, so inside the project, unlike train()'s output_dir.
            out = Path(args.output_dir)
            check_inside_project(
                "<command line>", config.resolve().parent, {"--output-dir": (args.output_dir, out)}
            )
        result = train(config, args.output_dir, seed=args.seed, jobs=args.jobs, quiet=args.quiet)
        if not args.quiet:
            print(summarize(result.metrics, result.seconds))
            print(f"artifacts: {result.output_dir}")
        return 0

    return run_cli(command)


def summarize(metrics: dict, seconds: float) -> str:
    """Each model's CV ROC AUC, the choice, the threshold and the test metrics, as a few lines."""
    lines = ["model                 CV ROC AUC (mean ± std)"]
    for name, cv in metrics["cv"].items():
        mark = "  <- selected" if name == metrics["selected_model"] else ""
        lines.append(f"{name:<21} {cv['mean_roc_auc']:.4f} ± {cv['std_roc_auc']:.4f}{mark}")
    threshold, test = metrics["threshold"], metrics["test"]
    lines.append(
        f"threshold {threshold['value']:.6g} ({metrics['score_kind']}), target precision "
        f"{threshold['target_precision']} {'met' if threshold['target_met'] else 'NOT met'} on out-of-fold scores"
    )
    lines.append(
        f"test: precision {test['precision']:.4f}  recall {test['recall']:.4f}  f1 {test['f1']:.4f}  "
        f"roc_auc {test['roc_auc']:.4f}  pr_auc {test['pr_auc']:.4f}"
    )
    lines.append(f"trained in {seconds:.1f}s")
    return "\n".join(lines)
