"""`repro-pin`: record or verify the SHA-256 that each dataset must have, in the registry the project commits.

    repro-pin FILE...            pin each file's current SHA-256 in the registry
    repro-pin --verify FILE...   exit 0 when every file matches its pin, 1 when one differs

The registry is the one the project's ini names (`repro_pins`, relative to the
rootdir, as pytest finds it), where the project commits it even when its data folder
is git-ignored; `--pins PATH` overrides it; with neither, `dataset_pins.yaml` beside
each dataset.  A training calls `pytest_repro.lineage.pins.check_dataset_pin` (with
the same `registry=`) before it reads the data, so a silently changed dataset stops
the run instead of training on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.cli.project_settings import configured_pins, find_project
from pytest_repro.core.paths import shown_path
from pytest_repro.errors import EXIT_OK
from pytest_repro.lineage.pins import PINS_FILE, check_dataset_pin, pin_dataset


def main(argv: Sequence[str] | None = None) -> int:
    """Run `repro-pin`; exit 0 on success, 1 when a file differs from its pin, 2 on a usage error."""
    parser = make_parser(
        "repro-pin",
        f"Pin datasets by SHA-256 in the project's registry (ini repro_pins), else the {PINS_FILE} beside them.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="dataset files")
    parser.add_argument("--verify", action="store_true", help="check the pins instead of writing them")
    parser.add_argument(
        "--pins",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"the pin registry (default: ini repro_pins, else {PINS_FILE} beside each dataset)",
    )
    args = parser.parse_args(argv)

    def command() -> int:
        registry = args.pins if args.pins is not None else configured_pins(find_project())
        for path in args.files:
            digest = check_dataset_pin(path, registry) if args.verify else pin_dataset(path, registry)
            verb = "matches its pin" if args.verify else "pinned"
            where = f" in {shown_path(registry)}" if registry is not None else ""
            print(f"{path}: {verb}{where} (sha256 {digest})")
        return EXIT_OK

    return run_cli(command)
