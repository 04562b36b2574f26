"""The repository checkout as the demo's commands see it: the demo runs from the checkout, never installed.

The wheel ships `pytest_repro` only, so a subprocess that runs `python -m training` from
another folder finds the demo through PYTHONPATH, the way a user runs it from a clone.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def demo_environment(**extra: str) -> dict[str, str]:
    """Return this process's environment with the checkout on PYTHONPATH and no REPRO_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("REPRO_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env
