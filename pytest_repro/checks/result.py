"""What a check returns and what it is given: an outcome with its words, and the runs it may ask for.

A check is a plain function (`pytest_repro.checks.registry`) that knows nothing of
pytest: it is handed a `CheckContext` (the settings, and the runs it may ask for) and
returns a `CheckResult`.  The one item class (`pytest_repro.items.item_base.ReproItem`)
turns the result into a pass, a failure or a skip, a summary row and JUnit
properties.  A check that cannot go on (its twins failed, a declaration cannot be
applied) raises `CheckStopped` with the result to report instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from pytest_repro.core.outcomes import Kind, Outcome

# The JUnit properties of a result that the session reads back (under xdist, from a worker's report).
TWIN_SECONDS_PROPERTY = "repro_twin_seconds"  # the twins' wall time, for the summary's last line
SEED_METRICS_PROPERTY = "repro_seed_metrics"  # a seed[N] check's run-a metrics, for the sweep's spread


class Effect(Enum):
    """What a result does to the test run: pass, fail with its message, or skip with it."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


_EFFECTS = {
    Kind.PASSED: Effect.PASS,
    Kind.WARNING: Effect.PASS,
    Kind.FAILED: Effect.FAIL,
    Kind.SKIPPED: Effect.SKIP,
}


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: its row (`detail`, the run-a and run-b columns), its message and properties.

    `message` is the failure's diagnosis or the skip's reason.  `effect` is the
    outcome's kind unless a check says otherwise (a seed left unused fails under
    `--repro-seed-sensitivity=fail`; a probe whose twins already differ is skipped).
    `row` is False for a check outside the reproducibility table (the lineage on disk).
    """

    outcome: Outcome
    detail: str = ""
    message: str = ""
    a: str = ""
    b: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    effect: Effect | None = None
    row: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.outcome, Outcome):  # no outcome word bypasses the one vocabulary
            raise TypeError(f"a check's outcome must be an Outcome, not {self.outcome!r}")

    @property
    def resolved_effect(self) -> Effect:
        return self.effect if self.effect is not None else _EFFECTS[self.outcome.kind]


class CheckStopped(Exception):
    """A check cannot go on; `result` is what it reports instead (its twins failed, say)."""

    def __init__(self, result: CheckResult):
        super().__init__(result.message)
        self.result = result


class CheckContext(Protocol):
    """What a check may read and ask for; the item provides it, from the session's runs."""

    settings: Any  # pytest_repro.settings.resolved.ReproSettings
    probes: Any  # pytest_repro.settings.probes.ProbeSettings
    rootpath: Path
    report_wanted: bool  # an HTML report is written: attach what only it reads

    def twins(self, seed: int | None = None) -> Any:
        """The twin runs (of `seed`); raises `CheckStopped` when they failed."""

    def narrowed_cause(self, twins: Any) -> str | None:
        """The line narrowing found for twins that differ (trained once per session), or None."""

    def train_seed(self, seed: int, like: Any) -> Any:
        """One run with `seed`, in `like`'s isolation; raises TrainingFailed or ContractError."""

    def variation_report(self, names: Sequence[str], variables_read: tuple[str, ...] | None) -> Any:
        """The session's variation hunt (computed once); raises VariationError."""
