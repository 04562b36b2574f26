"""The one item class: it runs a registered check and turns its result into pass, fail or skip and a summary row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.checks.result import CheckResult, Effect
from pytest_repro.core.outcomes import Outcome
from pytest_repro.errors import ReproError
from pytest_repro.settings.resolved import PLUGIN_KEY

SUMMARY_PROPERTY = "repro_summary"
# The JUnit property holding a check's outcome word (`pytest_repro.core.outcomes`).
OUTCOME_PROPERTY = "repro_outcome"


class ReproMismatch(ReproError):
    """A check failed; carries its rendered diagnosis."""


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
    """A generated check (`pytest_repro.checks.registry`): reports its outcome as a summary row and
    JUnit properties, and its failure as the diagnosis alone."""

    def __init__(self, *, planned: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.planned = planned  # a `pytest_repro.checks.registry.PlannedCheck`
        for marker in planned.registered.markers:
            self.add_marker(marker)

    @classmethod
    def child(cls, parent: pytest.Node, planned: Any) -> Any:
        """Create the check `planned` under `parent`, with a node id that `--lf` and `-k` match.

        pytest 9.2 parses a string node id such as `config.yaml::artifact[model]` into a
        name and a parameter part; a node built from its name alone would keep
        `artifact[model]` whole, compare unequal to the id `--lf` recorded, and never be
        rerun.  Passing the string id makes both forms the same.
        """
        name = planned.name
        return cls.from_parent(parent, name=name, nodeid=f"{parent.nodeid}::{name}", planned=planned)

    @property
    def plugin(self) -> Any:
        return self.config.stash[PLUGIN_KEY]

    def runtest(self) -> None:
        from pytest_repro.checks.registry import run_check
        from pytest_repro.items.session_runs import SessionRuns

        self.report(run_check(self.planned, SessionRuns(self, self.plugin)))

    def report(self, result: CheckResult) -> None:
        """Record the result's properties and row, then pass, fail with its message, or skip with it."""
        self.user_properties.extend(result.properties)
        if result.row:
            self.summary(result.outcome, result.detail, result.a, result.b)
        effect = result.resolved_effect
        if effect is Effect.FAIL:
            raise ReproMismatch(result.message)
        if effect is Effect.SKIP:
            self.skip(result.message)

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

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ReproMismatch | pytest.skip.Exception):
            return FailureText(str(excinfo.value), self.path)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"{self.planned.registered.label} {self.name}"


def is_check(item: pytest.Item, kind: str) -> bool:
    """Whether `item` is a generated check of the registered `kind` (`seed-sensitivity`, say)."""
    return isinstance(item, ReproItem) and item.planned.kind == kind
