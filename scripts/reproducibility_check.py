"""Verify that the artifacts on disk match artifacts/lineage.json (exit 0), or name what does not (exit 1)."""

from __future__ import annotations

import sys
from pathlib import Path

# Run from a checkout without installing: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_repro.cli.repro_check import main

if __name__ == "__main__":
    raise SystemExit(main())
