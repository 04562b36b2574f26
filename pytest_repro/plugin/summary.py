"""The report header (how to reproduce this session) and the terminal summary table."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_repro.core.paths import shown_path
from pytest_repro.settings.resolved import ReproSettings


def header_lines(settings: ReproSettings, rootpath: Path, extra: Iterable[str] = ()) -> list[str]:
    """Name the entry point, config and its hash, seed and isolation, and the command to rerun.

    Without --repro, one line naming the entry point: nothing is read that nothing will use.
    """
    if not settings.enabled:
        return [f"repro: off (pytest --repro to train twice and compare); entry {settings.entry}"]
    from pytest_repro.lineage.hashing import sha256_file

    has_config = settings.config_path.is_file()
    config = shown_path(settings.config_path, rootpath) if has_config else None
    config_text = (
        f"config {config} (sha256 {sha256_file(settings.config_path)[:12]})" if has_config else "no config"
    )
    from pytest_repro.core.config_files import config_seed  # reads YAML: only for a --repro session's header

    seed = settings.seed if settings.seed is not None else config_seed(settings.config_path)
    if seed is not None:
        seed_text = str(seed)
    elif settings.command is not None and not settings.command.takes_seed:
        seed_text = "set inside the command (no {seed} in it)"
    else:
        seed_text = "the training's own"
    isolation_where = ", each in a fresh copy of the project" if settings.command is not None else ""
    if settings.against is not None:
        recorded = shown_path(settings.against, rootpath)
        isolation_where += f"; run-a is the recorded run {recorded}, only run-b trains"
    if settings.isolation == "subprocess" and settings.against is not None:
        from pytest_repro.running.scheduler import core_share

        isolation = f"1 subprocess (PYTHONHASHSEED 2, {core_share(1)} BLAS/OpenMP threads){isolation_where}"
    elif settings.isolation == "subprocess":
        from pytest_repro.running.scheduler import core_share

        threads = core_share(2)
        isolation = (
            f"2 concurrent subprocesses (PYTHONHASHSEED 1 and 2, {threads} BLAS/OpenMP thread each)"
            f"{isolation_where}"
        )
    else:
        isolation = f"in process (shared interpreter state; for debugging){isolation_where}"
    return [
        f"repro: on; entry {settings.entry}, {config_text}, seed {seed_text}",
        f"repro: isolation: {isolation}",
        f"repro: rerun with: {rerun_command(config, seed, extra)}",
    ]


def rerun_command(config: str | None, seed: int | None, extra: Iterable[str] = ()) -> str:
    """The command that reproduces this session, quoted so that it works when pasted into a shell."""
    # `--repro-config=PATH`, one word, for a config outside the project: pytest looks for its ini
    # file before it knows the plugin's options, and would take a separate PATH for a test path.
    outside = config is not None and (config.startswith(("/", "..")) or Path(config).is_absolute())
    config_words = (
        [] if config is None else [f"--repro-config={config}"] if outside else ["--repro-config", config]
    )
    words = ["pytest", "--repro", *config_words]
    if seed is not None:
        words += ["--repro-seed", str(seed)]
    return shlex.join([*words, *extra])


def summary_lines(rows: Iterable[dict[str, Any]], twin_seconds: str | None) -> list[str]:
    """Render the checks as a compact table: short hashes of both runs and the outcome."""
    rows = list(rows)
    if not rows:
        return []
    width = max(len("check"), *(len(r["check"]) for r in rows))
    lines = [f"{'check':<{width}}  {'run-a':<12}  {'run-b':<12}  outcome"]
    for row in rows:
        outcome = shown_outcome(row["outcome"], row.get("detail", ""))
        lines.append(f"{row['check']:<{width}}  {row['a']:<12}  {row['b']:<12}  {outcome}")
    if twin_seconds is not None:
        lines.append(f"twin runs: wall time {twin_seconds} s")
    return lines


def shown_outcome(word: str, detail: str) -> str:
    """A row's outcome as the table prints it (`Outcome.shown`): `skipped: why`, `differs (what)`."""
    from pytest_repro.core.outcomes import Outcome

    outcome = Outcome.parse(word)
    if outcome is not None:
        return outcome.shown(detail)
    return word + (f" ({detail})" if detail else "")


def parse_summary(properties: Iterable[tuple[str, Any]], key: str) -> dict[str, Any] | None:
    """Return the summary row stored in a report's user properties, if any."""
    for name, value in properties:
        if name == key:
            return json.loads(value)
    return None
