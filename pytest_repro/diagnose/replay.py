"""Replay: does a fresh training reproduce the hashes a lineage recorded earlier?

The recorded lineage (written by `repro-run`, a training, or restored from CI) and the
fresh run's are paired entry by entry, by name (the twins' recorded lineages and
`repro-run`'s name things alike), then, for an output only one of them names, by its
file name.  When an output's SHA-256 differs, the failure names first what the fresh
run read that changed since the recorded one (a data file with one row edited), then
the outputs, then how the recorded environment differs from today's (scikit-learn
1.9.1 -> 1.9.2, another BLAS), the likely cause when no input changed.  A lineage of
another config file or another seed is not comparable: the replay is skipped, saying so.
The recorded lineage is untrusted input: a malformed one, or one whose envelope does
not match it or verify with the configured key, fails the replay (`invalid`) in one
line; replay only reads hashes, and opens no file the lineage names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_repro.core.paths import shown_path
from pytest_repro.lineage.manifest import INPUT, OUTPUT, Entry, entries

CONFIG_INPUT = "config"


class ReplaySkipped(Exception):
    """There is nothing comparable to replay; the reason says why."""


@dataclass(frozen=True)
class ReplayOutcome:
    """A digest of the recorded and of the fresh outputs, what differs, and the likely causes."""

    recorded_outputs: str
    fresh_outputs: str
    mismatches: tuple[str, ...]
    environment_changes: tuple[str, ...]
    changed_inputs: tuple[str, ...] = ()  # names of the inputs both runs read whose SHA-256 differs
    input_lines: tuple[str, ...] = ()  # each changed input, and the inputs only one run read
    ignored: tuple[str, ...] = ()  # outputs whose digests differ where repro_ignore declares volatility

    @property
    def changed_note(self) -> str:
        """What the summary table adds to the outcome: the inputs that changed, if any."""
        changed = ", ".join(self.changed_inputs)
        if not changed:
            return ""
        return f"{changed} changed" if self.mismatches else f"although {changed} changed"

    def render(self) -> str:
        if self.changed_inputs:
            names = " and ".join(self.changed_inputs)
            lines = [
                f"{names} changed since the lineage was recorded: a fresh training does not reproduce it",
                *self.input_lines,
                "outputs that differ:",
                *self.mismatches,
                "retrain to record the change (repro-run), or undo it",
            ]
        else:
            lines = ["a fresh training does not reproduce the recorded lineage:", *self.mismatches]
            lines += self.input_lines
        if self.environment_changes:
            lines.append(
                "the environment changed since the recorded run too:"
                if self.changed_inputs
                else "probable cause, the environment changed since the recorded run:"
            )
            lines += [f"  {change}" for change in self.environment_changes]
        elif not self.changed_inputs:
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


def replay_recorded(recorded_path: Path, run: Any, volatility: Any = None) -> ReplayOutcome:
    """Compare `run` (a fresh RunRecord with a lineage) against the lineage at `recorded_path`.

    Raises ReplaySkipped when there is nothing comparable, and a ReproError (LineageError,
    SignatureError, ConfigError for a bad key) when the recorded lineage cannot be trusted.
    `volatility` (`repro_ignore`, a `declared.Volatility`) pairs outputs by their `{id}`
    segments; an output a rule speaks of, whole or by a pointer, is set aside when its
    digest differs (replay holds digests only, so a pointer cannot be applied) and listed
    as ignored, never dropped.
    """
    from pytest_repro.lineage.environment import environment_differences
    from pytest_repro.lineage.manifest import parse_lineage, read_lineage
    from pytest_repro.lineage.signing import key_from_env, require_from_env, verify_signature

    if not recorded_path.exists() and not recorded_path.is_symlink():
        raise ReplaySkipped(f"no recorded lineage at {shown_path(recorded_path)} to replay")
    if run.lineage is None:
        raise ReplaySkipped("the entry point returned no lineage to compare with")
    # Its signature is checked when a key is configured, and its envelope, when there is one, must hold it.
    signature = verify_signature(recorded_path, key_from_env(), require_from_env())
    recorded = _Side(parse_lineage(signature.lineage_bytes, recorded_path), recorded_path).confined()
    fresh = _Side(read_lineage(run.lineage), Path(run.lineage))
    _require_same_config(recorded, fresh)
    if recorded.lineage.get("seed") != fresh.lineage.get("seed"):
        raise ReplaySkipped(
            f"the recorded lineage used seed {recorded.lineage.get('seed')}, this run {fresh.lineage.get('seed')}"
        )
    paired_name = volatility.paired_name if volatility else (lambda name: name)
    pairs = _paired(
        {paired_name(name): item for name, item in recorded.by_role[OUTPUT].items()},
        {paired_name(name): item for name, item in fresh.by_role[OUTPUT].items()},
    )
    differing = [(old, new) for old, new in pairs if old is None or new is None or old.sha256 != new.sha256]
    declared = [
        (old, new)
        for old, new in differing
        if old is not None and new is not None and volatility and _declared(volatility, paired_name(old.name))
    ]
    mismatches = tuple(
        f"  {_pair_name(old, new)}: recorded {_digest_or_nothing(old)}, fresh {_digest_or_nothing(new)}"
        for old, new in differing
        if (old, new) not in declared
    )
    changed, input_lines = _input_changes(recorded.by_role[INPUT], fresh.by_role[INPUT])
    changes = environment_differences(
        recorded.lineage.get("environment") or {}, fresh.lineage.get("environment") or {}
    )
    return ReplayOutcome(
        _digest({old.name: old.sha256 for old, _ in pairs if old is not None}),
        _digest({(old or new).name: new.sha256 for old, new in pairs if new is not None}),
        mismatches,
        tuple(changes),
        changed,
        input_lines if mismatches else (),
        tuple(paired_name(old.name) for old, _ in declared if old is not None),
    )


class _Side:
    """One lineage of a replay: its entries by role and name, and where its root is."""

    def __init__(self, lineage: dict[str, Any], path: Path):
        self.lineage = lineage
        self.path = path
        self.by_role: dict[str, dict[str, Entry]] = {INPUT: {}, OUTPUT: {}}
        for item in entries(lineage, path):
            self.by_role[item.role][item.name] = item

    def confined(self) -> _Side:
        """This side, once every entry's path is inside its root (`..`, absolute, a link out: LineageError)."""
        for table in self.by_role.values():
            for item in table.values():
                self.resolved(item)
        return self

    def resolved(self, item: Entry) -> Path:
        """Where an entry's file is, inside the lineage's root (not opened: the verifiers do that)."""
        from pytest_repro.lineage.verify import lineage_root, resolve_entry

        root = lineage_root(self.lineage, self.path)
        return resolve_entry(root, item.path, name=item.name, lineage_path=self.path)


def _require_same_config(recorded: _Side, fresh: _Side) -> None:
    """A lineage of another config file (another experiment) is not comparable: skipped, saying which."""
    old, new = recorded.by_role[INPUT].get(CONFIG_INPUT), fresh.by_role[INPUT].get(CONFIG_INPUT)
    if old is None or new is None:
        return
    if recorded.resolved(old) != fresh.resolved(new):
        raise ReplaySkipped(
            f"the recorded lineage is for another config ({old.path}; this run: {shown_path(fresh.resolved(new))})"
        )


def _input_changes(
    recorded: dict[str, Entry], fresh: dict[str, Entry]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The inputs both runs read whose bytes differ (by name), and one line for each of them and each unpaired one."""
    changed = tuple(
        name for name in sorted(set(recorded) & set(fresh)) if recorded[name].sha256 != fresh[name].sha256
    )
    lines = [
        f"  {name}: recorded sha256 {recorded[name].sha256[:12]}, now {fresh[name].sha256[:12]}"
        for name in changed
    ]
    only_recorded = sorted(set(recorded) - set(fresh))
    only_fresh = sorted(set(fresh) - set(recorded))
    if only_recorded:
        lines.append(f"inputs the recorded run read and this run did not: {', '.join(only_recorded)}")
    if only_fresh:
        lines.append(f"inputs this run read and the recorded run did not: {', '.join(only_fresh)}")
    return changed, tuple(lines)


def _paired(recorded: dict[str, Entry], fresh: dict[str, Entry]) -> list[tuple[Entry | None, Entry | None]]:
    """Outputs paired by name, then the rest by file name when exactly one on each side has it."""
    pairs: list[tuple[Entry | None, Entry | None]] = [
        (recorded[name], fresh[name]) for name in sorted(set(recorded) & set(fresh))
    ]
    old_rest = {name: item for name, item in recorded.items() if name not in fresh}
    new_rest = {name: item for name, item in fresh.items() if name not in recorded}
    old_by_file = _unique_by_file_name(old_rest.values())
    new_by_file = _unique_by_file_name(new_rest.values())
    for file_name in sorted(set(old_by_file) & set(new_by_file)):
        old, new = old_by_file[file_name], new_by_file[file_name]
        pairs.append((old, new))
        del old_rest[old.name], new_rest[new.name]
    pairs += [(item, None) for item in old_rest.values()]
    pairs += [(None, item) for item in new_rest.values()]
    return pairs


def _declared(volatility: Any, name: str) -> bool:
    """Whether a `repro_ignore` rule declares this output volatile, whole or by a pointer (pairing alone does not)."""
    return any(
        rule.matches(name) and (rule.pointer is not None or not rule.pairs) for rule in volatility.rules
    )


def _unique_by_file_name(items: Any) -> dict[str, Entry]:
    found: dict[str, list[Entry]] = {}
    for item in items:
        found.setdefault(PurePosixPath(item.path).name, []).append(item)
    return {name: listed[0] for name, listed in found.items() if len(listed) == 1}


def _pair_name(old: Entry | None, new: Entry | None) -> str:
    if old is not None and new is not None and old.name != new.name:
        return f"{old.name} (this run: {new.name})"
    return (old or new).name  # type: ignore[union-attr]


def _digest_or_nothing(item: Entry | None) -> str:
    return item.sha256 if item is not None else "nothing"


def _digest(outputs: dict[str, str]) -> str:
    from pytest_repro.lineage.atomic import canonical_json
    from pytest_repro.lineage.hashing import sha256_bytes

    return sha256_bytes(canonical_json(outputs))
