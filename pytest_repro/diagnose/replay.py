"""Replay: does a fresh training reproduce the hashes a lineage recorded earlier?

When the recorded lineage's inputs (every one, by name) and seed equal the fresh
run's, every output both record must have the same SHA-256 too.  When one does not,
the most likely cause is the environment, so the difference between the recorded and
current environment is shown (scikit-learn 1.9.1 -> 1.9.2, another BLAS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.lineage.manifest import INPUT, OUTPUT, entries
from pytest_repro.paths import shown_path


class ReplaySkipped(Exception):
    """There is nothing comparable to replay; the reason says why."""


@dataclass(frozen=True)
class ReplayOutcome:
    """A digest of the recorded and of the fresh outputs, what differs, and the environment changes."""

    recorded_outputs: str
    fresh_outputs: str
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


def recorded_lineage(lineage_path: Path, config_path: Path, rootpath: Path) -> Path:
    """The lineage a replay compares with: the configured one, else the same path beside the config.

    A config kept outside the project (an experiment folder with its own data) has its
    training's lineage beside it (`<config folder>/artifacts/lineage.json`), not under the
    project root where the ini setting points.
    """
    if lineage_path.exists():
        return lineage_path
    try:
        relative = lineage_path.resolve().relative_to(rootpath.resolve())
    except ValueError:
        return lineage_path
    for candidate in (config_path.parent / relative, config_path.parent / relative.name):
        if candidate.is_file():
            return candidate
    return lineage_path


def replay_recorded(recorded_path: Path, run: Any) -> ReplayOutcome:
    """Compare `run` (a fresh RunRecord with a lineage) against the lineage at `recorded_path`."""
    from pytest_repro.errors import LineageError
    from pytest_repro.lineage.environment import environment_differences
    from pytest_repro.lineage.manifest import read_lineage

    if not recorded_path.exists():
        raise ReplaySkipped(f"no recorded lineage at {shown_path(recorded_path)} to replay")
    if run.lineage is None:
        raise ReplaySkipped("the entry point returned no lineage to compare with")
    try:
        recorded = read_lineage(recorded_path)
        fresh = read_lineage(run.lineage)
    except LineageError as exc:
        raise ReplaySkipped(f"unreadable lineage: {exc}") from None
    recorded_entries, fresh_entries = _by_role(recorded, recorded_path), _by_role(fresh, run.lineage)
    _require_same_inputs(recorded_entries[INPUT], fresh_entries[INPUT])
    if recorded.get("seed") != fresh.get("seed"):
        raise ReplaySkipped(
            f"the recorded lineage used seed {recorded.get('seed')}, this run {fresh.get('seed')}"
        )
    old, new = recorded_entries[OUTPUT], fresh_entries[OUTPUT]
    mismatches = tuple(
        f"  {name}: recorded {old.get(name, 'nothing')}, fresh {new.get(name, 'nothing')}"
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    )
    changes = environment_differences(recorded.get("environment") or {}, fresh.get("environment") or {})
    return ReplayOutcome(_digest(old), _digest(new), mismatches, tuple(changes))


def _by_role(lineage: dict[str, Any], path: Path) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {INPUT: {}, OUTPUT: {}}
    for item in entries(lineage, path):
        found[item.role][item.name] = item.sha256
    return found


def _require_same_inputs(recorded: dict[str, str], fresh: dict[str, str]) -> None:
    """A replay is meaningful only for the same inputs; anything else is skipped, saying which differs."""
    for name in sorted(set(recorded) | set(fresh)):
        if name not in fresh:
            raise ReplaySkipped(f"the recorded lineage has an input {name!r} this run does not record")
        if name not in recorded:
            raise ReplaySkipped(f"this run records an input {name!r} the recorded lineage does not")
        if recorded[name] != fresh[name]:
            raise ReplaySkipped(f"the recorded lineage is for another {name} (its sha256 differs)")


def _digest(outputs: dict[str, str]) -> str:
    from pytest_repro.lineage.atomic import canonical_json
    from pytest_repro.lineage.hashing import sha256_bytes

    return sha256_bytes(canonical_json(outputs))
