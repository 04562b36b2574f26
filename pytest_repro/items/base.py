"""What every generated item shares: the session key, the summary row, and failures without tracebacks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.errors import ReproError
from pytest_repro.outcomes import Outcome

SUMMARY_PROPERTY = "repro_summary"
# The JUnit property holding a check's outcome word (`pytest_repro.outcomes`).
OUTCOME_PROPERTY = "repro_outcome"
SEED_METRICS_PROPERTY = "repro_seed_metrics"  # a seed[N] item's run-a metrics, for the sweep's spread
TWIN_SECONDS_PROPERTY = "repro_twin_seconds"  # the twins' wall time, for the summary's last line
PLUGIN_KEY: pytest.StashKey[Any] = pytest.StashKey()


class ReproMismatch(ReproError):
    """The runs disagree on one check; carries the rendered diagnosis."""


class ReproCheckError(ReproError):
    """A check could not run (training failed, contract broken, manifest missing)."""


@dataclass(frozen=True)
class _Crash:
    """Where and why a check failed, in the shape pytest reads from a failure's `reprcrash`."""

    path: str
    lineno: int
    message: str


class FailureText:
    """A check's failure as pytest shows it: the diagnosis alone, no traceback.

    pytest 8 puts the text after `FAILED <node id> - ` in the short summary only for a
    failure that has a `reprcrash` (pytest 9 also for a plain string), so the diagnosis
    is both the crash message and the text printed under the check's header.  JUnit XML
    reads the same message; xdist and the report log send `str()` of it.
    """

    def __init__(self, text: str, path: Path):
        self.text = text
        self.reprcrash = _Crash(str(path), 1, text)

    def toterminal(self, tw: Any) -> None:
        tw.line(self.text)

    def __str__(self) -> str:
        return self.text


class ReproItem(pytest.Item):
    """A generated check: reports its outcome as a summary row and its failure as the diagnosis alone."""

    @classmethod
    def child(cls, parent: pytest.Node, name: str, **kwargs: Any) -> Any:
        """Create the check `name` under `parent`, with a node id that `--lf` and `-k` match.

        pytest 9.2 parses a string node id such as `config.yaml::artifact[model]` into a
        name and a parameter part; a node built from its name alone would keep
        `artifact[model]` whole, compare unequal to the id `--lf` recorded, and never be
        rerun.  Passing the string id makes both forms the same.
        """
        return cls.from_parent(parent, name=name, nodeid=f"{parent.nodeid}::{name}", **kwargs)

    @property
    def plugin(self) -> Any:
        return self.config.stash[PLUGIN_KEY]

    def skip(self, reason: str) -> None:
        """Skip this check, reported at the check's own location (config.yaml), not the plugin's source."""
        # pytest.skip() reports where it was raised; its exception type takes a flag, not
        # part of pytest's documented API, to report the item's location instead.
        try:
            raise pytest.skip.Exception(reason, _use_item_location=True)
        except TypeError:  # a pytest without the flag: a plain skip, located in the plugin
            pytest.skip(reason)

    def summary(self, outcome: Outcome, detail: str = "", a: str = "", b: str = "") -> None:
        """Add this check's row to the session's reproducibility table, and its outcome to the JUnit properties."""
        row = {"check": self.name, "a": a[:12], "b": b[:12], "outcome": outcome.value, "detail": detail}
        self.user_properties.append((SUMMARY_PROPERTY, json.dumps(row, sort_keys=True)))
        self.user_properties.append((OUTCOME_PROPERTY, outcome.value))

    def twins_or_not_run(self, settings: Any, seed: int | None = None) -> Any:
        """The twin runs this check compares; when they failed, fail once or say `not run`.

        One cause, one failure: the first check to meet a failed training (in collection
        order, across xdist workers) fails with the training's last output; every other
        check of the same twins is skipped as `not run: run-a failed`, naming that check.
        The session still fails, through that one check.
        """
        from pytest_repro.running.twins import TwinFailure, request_key

        try:
            return self.plugin.twins(settings, seed=seed)
        except TwinFailure as exc:
            message = str(exc)
            key = request_key(settings.request(seed), settings.isolation)
            owner = self.plugin.runs().shared_cache().claim(f"{key}.failure", self.nodeid)
            label = failed_label(message)
            if owner == self.nodeid:
                self.summary(Outcome.FAILED, _cause(message))
                raise ReproCheckError(f"the twin runs failed:\n{message}") from None
            self.summary(Outcome.NOT_RUN, f"{label} failed")
            self.skip(f"not run: {label} failed; its failure and last output are reported by {owner}")

    def report_property(self, name: str, value: Callable[[], str]) -> None:
        """Attach data only the HTML report reads, and only when one is written (junitxml stays lean)."""
        if self.plugin.report is not None:
            self.user_properties.append((name, value()))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ReproMismatch | ReproCheckError | pytest.skip.Exception):
            return FailureText(str(excinfo.value), self.path)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"repro {self.name}"


def artifacts_column(hashes: Mapping[str, str], names: Sequence[str] | None = None) -> str:
    """A run's hash column for its outputs: one file's own SHA-256 (`sha256sum` shows it), or how many files.

    A digest of several files could be checked by no one; their digests are listed in
    the failure text (`digest_lines`) and in the JUnit properties instead.
    """
    names = sorted(hashes) if names is None else list(names)
    if len(names) == 1:
        return hashes.get(names[0], "")
    return f"{len(names)} files"


def digest_lines(names: Sequence[str], a: Any, b: Any) -> list[str]:
    """Each output's SHA-256 in both runs, as `sha256sum` prints it for the file in each run's folder."""
    lines = ["sha256 of each output (check with sha256sum):"]
    for name in names:
        hash_a, hash_b = a.hashes.get(name, "missing"), b.hashes.get(name, "missing")
        if hash_a == hash_b:
            lines.append(f"  {name}: {hash_a} in both runs")
        else:
            lines.append(f"  {name}: run a {hash_a}, run b {hash_b}")
    return lines


def failed_label(message: str) -> str:
    """The run a failure message names first (`run-a: ...`), or "the training" when it names none."""
    head = message.split(":", 1)[0].strip()
    return head if re.fullmatch(r"run-[ab]|seed-\d+", head) else "the training"


def _cause(message: str, width: int = 120) -> str:
    """A failure in one line for the summary table: what happened and the last line the run printed."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0].removesuffix(" the end of its output:").rstrip(";:")
    last = next((line for line in reversed(lines[1:]) if not line.startswith("[")), "")
    shown = f"{head}: {last}" if last else head
    return shown if len(shown) <= width else shown[: width - 1] + "…"
