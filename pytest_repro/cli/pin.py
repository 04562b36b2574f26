"""`repro-pin`: record or verify the SHA-256 that each dataset must have (`dataset_pins.yaml` beside it).

    repro-pin FILE...            pin each file's current SHA-256 in the registry beside it
    repro-pin --verify FILE...   exit 0 when every file matches its pin, 1 when one differs

A training calls `pytest_repro.lineage.pins.check_dataset_pin` before it reads the data,
so a silently changed dataset stops the run instead of training on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.errors import EXIT_OK
from pytest_repro.lineage.pins import check_dataset_pin, pin_dataset


def main(argv: Sequence[str] | None = None) -> int:
    """Run `repro-pin`; exit 0 on success, 1 when a file differs from its pin, 2 on a usage error."""
    parser = make_parser("repro-pin", "Pin datasets by SHA-256 in the dataset_pins.yaml beside them.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="dataset files")
    parser.add_argument("--verify", action="store_true", help="check the pins instead of writing them")
    args = parser.parse_args(argv)

    def command() -> int:
        for path in args.files:
            digest = check_dataset_pin(path) if args.verify else pin_dataset(path)
            verb = "matches its pin" if args.verify else "pinned"
            print(f"{path}: {verb} (sha256 {digest})")
        return EXIT_OK

    return run_cli(command)
