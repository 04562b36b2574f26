"""Replay: does a fresh training reproduce the hashes a lineage recorded earlier?

When the recorded lineage's config and dataset hashes equal the fresh run's, its
model and threshold must too.  When they do not, the most likely cause is the
environment, so the difference between the recorded and current environment is
shown (scikit-learn 1.9.1 -> 1.9.2, another BLAS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPLAYED_ENTRIES = ("model", "threshold")


class ReplaySkipped(Exception):
    """There is nothing comparable to replay; the reason says why."""


@dataclass(frozen=True)
class ReplayOutcome:
    """The recorded and fresh hashes, what differs, and the environment changes."""

    recorded_model: str
    fresh_model: str
    mismatches: tuple[str, ...]
    environment_changes: tuple[str, ...]

    def render(self) -> str:
        lines = ["a fresh training does not reproduce the recorded lineage:", *self.mismatches]
        if self.environment_changes:
            lines.append("probable cause, the environment changed since the recorded run:")
            lines += [f"  {change}" for change in self.environment_changes]
        else:
            lines.append("the recorded environment equals the current one: look for non-determinism")
        return "\n".join(lines)


def replay_recorded(recorded_path: Path, run: Any) -> ReplayOutcome:
    """Compare `run` (a fresh RunRecord with a lineage) against the lineage at `recorded_path`."""
    from pytest_repro.errors import LineageError
    from pytest_repro.lineage.environment import environment_differences
    from pytest_repro.lineage.manifest import read_lineage

    if not recorded_path.exists():
        raise ReplaySkipped(f"no recorded lineage at {_shown(recorded_path)} to replay")
    if run.lineage is None:
        raise ReplaySkipped("the entry point returned no lineage to compare with")
    try:
        recorded = read_lineage(recorded_path)
        fresh = read_lineage(run.lineage)
    except LineageError as exc:
        raise ReplaySkipped(f"unreadable lineage: {exc}") from None
    for entry in ("config", "dataset"):
        if recorded[entry]["sha256"] != fresh[entry]["sha256"]:
            raise ReplaySkipped(f"the recorded lineage is for another {entry} (its sha256 differs)")
    if recorded.get("seed") != fresh.get("seed"):
        raise ReplaySkipped(
            f"the recorded lineage used seed {recorded.get('seed')}, this run {fresh.get('seed')}"
        )
    mismatches = tuple(
        f"  {entry}: recorded {recorded[entry]['sha256']}, fresh {fresh[entry]['sha256']}"
        for entry in REPLAYED_ENTRIES
        if recorded[entry]["sha256"] != fresh[entry]["sha256"]
    )
    changes = environment_differences(recorded.get("environment") or {}, fresh.get("environment") or {})
    return ReplayOutcome(recorded["model"]["sha256"], fresh["model"]["sha256"], mismatches, tuple(changes))


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)
