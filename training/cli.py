"""`python -m training`: the demo's command line, built on the plugin's parser and exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.errors import EXIT_OK


def seed_type(text: str) -> int:
    """Parse a --seed value; the range itself is checked by the config schema."""
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def jobs_type(text: str) -> int:
    """Parse a --jobs value: a positive integer."""
    try:
        value = int(text, 10)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def train_main(argv: Sequence[str] | None = None) -> int:
    """`python -m training`: train with a config and write artifacts and lineage."""
    parser = make_parser("python -m training", "Train the configured models and write artifacts.")
    parser.add_argument("--config", default="config.yaml", help="config file (default: %(default)s)")
    parser.add_argument(
        "--output-dir",
        default=None,
        help="artifact folder, inside the config's folder (default: artifacts.model_dir of the config)",
    )
    parser.add_argument("--seed", type=seed_type, default=None, help="override the config's seed")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument(
        "--jobs",
        type=jobs_type,
        default=None,
        metavar="N",
        help="worker processes for the cross-validation fits (default: REPRO_WORKERS, else every "
        "available core); any N gives the same bytes",
    )
    args = parser.parse_args(argv)

    def command() -> int:
        from training.progress import Progress
        from training.run import check_output_dir, train

        if args.output_dir is not None:
            check_output_dir(args.config, args.output_dir)
        result = train(
            args.config,
            args.output_dir,
            seed=args.seed,
            progress=Progress(quiet=args.quiet),
            jobs=args.jobs,
        )
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
