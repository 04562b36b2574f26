"""The one registry of checks, and the one generator that chooses those a training and its settings ask for.

Each kind of check is one plain function (`check(context, subject) -> CheckResult`),
registered here with the markers its items carry; `planned_checks` yields, in
collection order, the checks of the configured training, and `run_check` runs one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from pytest_repro.checks.result import CheckContext, CheckResult, CheckStopped

CheckFunction = Callable[[CheckContext, Any], CheckResult]


@dataclass(frozen=True)
class CheckKind:
    """A registered check: its function, the markers its items carry, and the word before its name in reports.

    The function is named `module.function` in this package and imported when a check of
    its kind first runs: a session that collects the checks without `--repro` (they are
    skipped) loads none of them.
    """

    function: str | CheckFunction
    markers: tuple[str, ...]
    label: str = "repro"

    def load(self) -> CheckFunction:
        if callable(self.function):
            return self.function
        module, _, name = self.function.rpartition(".")
        return getattr(import_module(f"pytest_repro.checks.{module}"), name)


# `repro` selects the twin checks; probes train beyond the twins (`repro_probe`), so `-m repro`
# leaves them out; `lineage` selects every lineage verification.
REGISTRY: dict[str, CheckKind] = {
    "artifact": CheckKind("twin_comparisons.check_artifact", ("repro",)),
    "artifacts": CheckKind("twin_comparisons.check_every_artifact", ("repro",)),
    "folds": CheckKind("twin_comparisons.check_folds", ("repro",)),
    "metrics": CheckKind("twin_comparisons.check_metrics", ("repro",)),
    "lineage": CheckKind("twin_comparisons.check_run_lineage", ("repro", "lineage")),
    "replay": CheckKind("twin_comparisons.check_replay", ("repro",)),
    "seed": CheckKind("probe_checks.check_seed", ("repro_probe",)),
    "seed-sensitivity": CheckKind("probe_checks.check_seed_sensitivity", ("repro_probe",)),
    "vary": CheckKind("probe_checks.check_variation", ("repro_probe",)),
    "lineage-file": CheckKind("lineage_file.check_lineage_file", ("lineage",), label="lineage"),
}


@dataclass(frozen=True)
class PlannedCheck:
    """One check to run: its item's name, its registered kind, and what it checks (an output, a seed...)."""

    name: str
    kind: str
    subject: Any

    @property
    def registered(self) -> CheckKind:
        return REGISTRY[self.kind]


def planned_checks(settings: Any, probes: Any, *, sensitivity_asked: bool) -> Iterator[PlannedCheck]:
    """The checks of the configured training, in collection order: the twin checks, then the probes.

    Against a recorded run (CI's one extra training) the seed probe trains only when the
    command line asks for it (`sensitivity_asked`: `--repro-seed-sensitivity warn|fail`).
    """
    for name in settings.artifacts:
        yield PlannedCheck(f"artifact[{name}]", "artifact", name)
    if not settings.artifacts:
        yield PlannedCheck("artifacts", "artifacts", "every artifact")
    yield PlannedCheck("folds", "folds", "folds")
    yield PlannedCheck("metrics", "metrics", "metrics")
    for label in ("run-a", "run-b"):
        yield PlannedCheck(f"lineage[{label}]", "lineage", label)
    yield PlannedCheck("replay", "replay", "recorded lineage")
    for seed in probes.seeds:
        yield PlannedCheck(f"seed[{seed}]", "seed", seed)
    if probes.sensitivity != "off" and (settings.against is None or sensitivity_asked):
        yield PlannedCheck("seed-sensitivity", "seed-sensitivity", "seed")
    for name in probes.vary:
        yield PlannedCheck(f"vary[{name}]", "vary", name)


def plans_check(kind: str, settings: Any, probes: Any, *, sensitivity_asked: bool) -> bool:
    """Whether the configured training's checks (`planned_checks`) include one of `kind`."""
    return any(
        planned.kind == kind
        for planned in planned_checks(settings, probes, sensitivity_asked=sensitivity_asked)
    )


def run_check(planned: PlannedCheck, context: CheckContext) -> CheckResult:
    """Run one check: its result, or the one it stopped with."""
    try:
        return planned.registered.load()(context, planned.subject)
    except CheckStopped as stopped:
        return stopped.result
