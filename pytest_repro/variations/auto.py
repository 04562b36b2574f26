"""Auto mode: every variation at once, and each variation alone only if that changes the output.

One run with every selected variation (except the informational and portability
ones, which always train alone) applied at once is compared with the reference; only
if it differs is each variation trained alone, together with a *control* (the
reference again) that tells a variation apart from plain run-to-run non-determinism.
An all-clear costs two trainings, plus one per informational or portability variation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_repro.core.outcomes import Outcome
from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.diagnose.difference import Difference
from pytest_repro.running.launcher import ProgressSink
from pytest_repro.running.scheduler import TrainingScheduler
from pytest_repro.variations.catalogue import (
    ALONE,
    INFORMATIONAL,
    VARIATIONS,
    describe,
    lookup,
    reference_spec,
    varied_spec,
)
from pytest_repro.variations.refusals import VariationError
from pytest_repro.variations.report import VariationReport, VariationResult
from pytest_repro.variations.runs import RunResult, train_specs
from pytest_repro.variations.specs import RunSpec
from pytest_repro.variations.workspace import Workspace

Notify = Callable[[str], None]


def run_variations(
    request: RunRequest,
    names: Sequence[str],
    folder: Path,
    *,
    project_root: Path,
    cwd: Path | None = None,
    tolerance: float = 0.0,
    sink: ProgressSink | None = None,
    notify: Notify | None = None,
    parallel: int | None = None,
    fail_portability: bool = False,
    variables_read: Sequence[str] | None = None,
    ignore: Sequence[Any] = (),
    scheduler: TrainingScheduler | None = None,
) -> VariationReport:
    """Compare the reference with all variations at once, then, only if that differs, each alone.

    A portability variation (another machine's kernels) that changes the output is
    reported as `portability`, or as `differs` when `fail_portability` is set.
    `ignore` (`repro_ignore`'s rules) sets aside what may differ by design, as in the twins.
    `variables_read`, when known (the twins of a pytest session recorded them), are the
    cooperation variables the training reads: a variation whose variable is not among
    them is `not exercised` without being trained.  The runs go to `scheduler` (a pytest
    session's, queued behind its twins), or to one of their own.
    """
    names = tuple(name for name in VARIATIONS if name in names)
    if not names:
        raise VariationError("no variation selected")
    folder.mkdir(parents=True, exist_ok=True)
    ws = Workspace(request, folder, project_root, cwd or Path.cwd())
    hunt = _Hunt(
        ws,
        names,
        tolerance,
        notify or (lambda message: None),
        sink,
        parallel,
        fail_portability,
        variables_read,
        tuple(ignore),
        scheduler,
    )
    return hunt.run()


class _Hunt:
    """One auto-mode computation: its workspace, the runs trained so far, and what they showed."""

    reference_record: RunRecord  # set by the first round; every comparison is made against it
    combined_record: RunRecord | Exception  # the all-at-once run, when there was one

    def __init__(
        self,
        ws: Workspace,
        names: tuple[str, ...],
        tolerance: float,
        tell: Notify,
        sink: ProgressSink | None,
        parallel: int | None,
        fail_portability: bool = False,
        variables_read: Sequence[str] | None = None,
        ignore: tuple[Any, ...] = (),
        scheduler: TrainingScheduler | None = None,
    ):
        self.ws = ws
        self.scheduler = scheduler or TrainingScheduler(sink)
        self.ignore = ignore
        self.fail_portability = fail_portability
        self.names = names
        self.tolerance = tolerance
        self.tell = tell
        self.sink = sink
        self.parallel = parallel
        self.trainings = 0
        self.unavailable = {
            name: found for name in names if (found := _varies_nothing(name, ws, variables_read)) is not None
        }
        active = [name for name in names if name not in self.unavailable]
        self.checked = [name for name in active if name not in ALONE]
        self.alone = [name for name in active if name in ALONE]
        self.reference = reference_spec(ws)
        self.specs: dict[str, RunSpec] = {}  # every run trained so far, by label
        self.descriptions = {name: describe(name, ws) for name in active}

    def run(self) -> VariationReport:
        """Train the first round, and the second only if the first changed the output."""
        outcomes, combined = self._first_round()
        control = None
        first_broke = combined.broke if combined is not None else any(outcomes[n].broke for n in self.checked)
        if self.checked and first_broke:
            control = self._second_round(outcomes, together=combined is not None)
        elif combined is not None:
            for name in self.checked:
                outcomes[name] = _unexercised(
                    name, self.combined_record, self.descriptions[name], "together"
                ) or VariationResult(
                    name, *self.descriptions[name], Outcome.IDENTICAL, "together", note=combined.note
                )
        for name, (status, reason) in self.unavailable.items():
            reference = lookup(name).reference(self.ws).description
            outcomes[name] = VariationResult(name, reference, "(not varied)", status, "alone", note=reason)
        moved = self.ws.moved_so_far()
        return VariationReport(
            entry=self.ws.request.entry,
            config=str(self.ws.request.config_path),
            seed=self.ws.request.seed,
            tolerance=self.tolerance,
            selected=self.names,
            outcomes={name: outcomes[name] for name in self.names},
            combined=combined,
            control=control,
            trainings=self.trainings,
            moved=moved.copied if moved is not None else (),
            moved_to=str(moved.root) if moved is not None else "",
            outputs=output_names(self.reference_record),
        )

    def _first_round(self) -> tuple[dict[str, VariationResult], VariationResult | None]:
        """The reference, all checked variations at once (or the one alone), and each of those that train alone."""
        runs: dict[str, RunSpec] = {"reference": self.reference}
        combined_label = "all" if len(self.checked) > 1 else (self.checked[0] if self.checked else None)
        if combined_label is not None:
            runs[combined_label] = varied_spec(self.reference, self.checked, self.ws)
        for name in self.alone:
            runs[name] = varied_spec(self.reference, [name], self.ws)
        self.tell(f"training {len(runs)} runs: {', '.join(runs)}")
        records = self._train(runs)
        reference = records["reference"]
        if isinstance(reference, Exception):
            raise VariationError(f"the reference training failed, so nothing can be compared:\n{reference}")
        self.reference_record = reference
        outcomes = {name: self._alone(name, records[name]) for name in self.alone}
        if combined_label != "all":
            if combined_label is not None:
                outcomes[combined_label] = self._compare(
                    combined_label, records[combined_label], self.checked, "alone"
                )
            return outcomes, None
        self.combined_record = records["all"]
        combined = compare_outcome(
            "all",
            reference,
            records["all"],
            self.checked,
            ("reference", f"{len(self.checked)} variations at once"),
            "together",
            self.tolerance,
            self.fail_portability,
            changed_variables(self.reference, self.specs["all"]),
            ignore=self.ignore,
        )
        return outcomes, combined

    def _second_round(self, outcomes: dict[str, VariationResult], *, together: bool) -> VariationResult:
        """The control and, after an all-at-once run, each checked variation alone; returns the control."""
        runs: dict[str, RunSpec] = {"control": self.reference}
        if together:
            runs.update({name: varied_spec(self.reference, [name], self.ws) for name in self.checked})
        self.tell(f"the output changed; training {len(runs)} runs to find the cause: {', '.join(runs)}")
        records = self._train(runs)
        control = compare_outcome(
            "control",
            self.reference_record,
            records["control"],
            [],
            ("reference", "reference again"),
            "alone",
            self.tolerance,
            self.fail_portability,
            ignore=self.ignore,
        )
        if together:
            outcomes.update({name: self._alone(name, records[name]) for name in self.checked})
        if control.broke:
            # Without a stable reference no variation can be blamed.
            for name, outcome in outcomes.items():
                if name not in INFORMATIONAL and outcome.status is Outcome.DIFFERS:
                    outcomes[name] = dataclasses.replace(outcome, status=Outcome.INCONCLUSIVE)
        return control

    def _train(self, runs: Mapping[str, RunSpec]) -> dict[str, RunResult]:
        self.trainings += len(runs)
        self.specs.update(runs)
        return train_specs(
            runs, self.ws.folder / "runs", sink=self.sink, parallel=self.parallel, scheduler=self.scheduler
        )

    def _alone(self, name: str, result: RunResult) -> VariationResult:
        return self._compare(name, result, [name], "alone")

    def _compare(
        self, name: str, result: RunResult, varied_names: Sequence[str], tested: str
    ) -> VariationResult:
        return compare_outcome(
            name,
            self.reference_record,
            result,
            varied_names,
            self.descriptions[name],
            tested,
            self.tolerance,
            self.fail_portability,
            changed_variables(self.reference, self.specs[name]),
            ignore=self.ignore,
        )


def changed_variables(reference: RunSpec, varied: RunSpec) -> frozenset[str]:
    """The environment variables whose values differ between two run specs (set, changed or removed)."""
    return frozenset(
        name for name in {*reference.env, *varied.env} if reference.env.get(name) != varied.env.get(name)
    )


def output_names(record: RunRecord) -> tuple[str, ...]:
    """The outputs a run produced, as `compare_runs` names them: each artifact, the folds, the metrics.

    An artifact named `metrics` and the returned metrics are one output to a reader.
    """
    folds = ("folds",) if record.folds is not None else ()
    return tuple(dict.fromkeys((*sorted(record.artifacts), *folds, "metrics")))


def compare_outcome(
    name: str,
    reference: RunRecord,
    result: RunRecord | Exception,
    varied_names: Sequence[str],
    descriptions: tuple[str, str],
    tested: str,
    tolerance: float,
    fail_portability: bool = False,
    variables: Collection[str] = (),
    *,
    ignore: Sequence[Any] = (),
) -> VariationResult:
    """Compare a varied run with the reference and classify the result.

    Informational variations say `changed`/`unchanged`; a portability variation that
    changed the output says `portability` (or `differs` with `fail_portability`), and
    both list how far each metric moved.  A change leads with its `cause:` line when the
    runs' recorders saw one (`variables`: those the varied run's environment changed).
    What `ignore` (`repro_ignore`'s rules) set aside is named in the note, never dropped.
    """
    from pytest_repro.diagnose.causes import variation_cause
    from pytest_repro.diagnose.compare import compare_runs
    from pytest_repro.diagnose.declared import Volatility
    from pytest_repro.diagnose.digests import metric_deltas

    if isinstance(result, Exception):
        return VariationResult(name, *descriptions, Outcome.FAILED, tested, error=str(result))
    volatility = Volatility(ignore) if ignore else None
    differences = compare_runs(reference, result, tolerance, volatility=volatility)
    differences, note = _without_expected(differences, reference, result, varied_names)
    if volatility is not None and volatility.ignored:
        note = "; ".join(filter(None, [note, Outcome.IGNORED.shown(volatility.shown())]))
    if not differences and (unexercised := _unexercised(name, result, descriptions, tested)) is not None:
        return unexercised
    variation = lookup(name) if name in VARIATIONS else None
    if variation is not None and variation.informational:
        deltas = metric_deltas(reference.metrics, result.metrics)
        status = Outcome.CHANGED if differences else Outcome.UNCHANGED
        if not differences:
            note = variation.unchanged_note
        return VariationResult(
            name, *descriptions, status, tested, tuple(differences), metric_deltas=deltas, note=note
        )
    if variation is not None and variation.portability and differences:
        status = Outcome.DIFFERS if fail_portability else Outcome.PORTABILITY
        deltas = metric_deltas(reference.metrics, result.metrics)
        return VariationResult(
            name, *descriptions, status, tested, tuple(differences), metric_deltas=deltas, note=note
        )
    status = Outcome.DIFFERS if differences else Outcome.IDENTICAL
    cause = variation_cause(reference.events, result.events, variables) if differences else None
    return VariationResult(
        name, *descriptions, status, tested, tuple(differences), note=note, cause=cause or ""
    )


def _unexercised(
    name: str, result: RunRecord | Exception, descriptions: tuple[str, str], tested: str
) -> VariationResult | None:
    """`not exercised` when the variation sets a variable that the training was not seen to read.

    Called only when the output did not change: a change is evidence enough.  Whether
    the run was a function or a command makes no difference: a run whose reads were
    recorded (`variables_read`, a tuple) and lack the variable never read it; a run whose
    reads were not recorded (None) gives no evidence that it did, so no verdict either.
    """
    variable = lookup(name).reads if name in VARIATIONS else None
    if variable is None or isinstance(result, Exception):
        return None
    if result.variables_read is None:
        note = f"the training was not seen reading {variable} (its reads are not recorded), so nothing was shown to vary"
    elif variable in result.variables_read:
        return None
    else:
        note = f"the training never read {variable}, so nothing was varied"
    return VariationResult(name, *descriptions, Outcome.NOT_EXERCISED, tested, note=note)


def _varies_nothing(
    name: str, ws: Workspace, variables_read: Sequence[str] | None
) -> tuple[Outcome, str] | None:
    """Why variation `name` would vary nothing in this training on this machine, known before training.

    Not applicable to this kind of training, impossible on this machine, or setting a
    variable the twins were seen never to read; None when it is worth training.
    """
    variation = lookup(name)
    reason = variation.not_applicable(ws)
    if reason is not None:
        return Outcome.NOT_APPLICABLE, reason
    reason = variation.unavailable(ws)
    if reason is not None:
        return Outcome.NOT_EXERCISED, reason
    if variation.reads is not None and variables_read is not None and variation.reads not in variables_read:
        return (
            Outcome.NOT_EXERCISED,
            f"the training never read {variation.reads} (seen in the twin runs), so it was not trained",
        )
    return None


def _without_expected(
    differences: list[Difference], a: RunRecord, b: RunRecord, varied_names: Sequence[str]
) -> tuple[list[Difference], str]:
    """Drop model differences that lie only in parameters a variation sets on purpose (n_jobs).

    Any artifact that loads as an estimator counts, whatever its name.
    """
    from pytest_repro.diagnose.digests import same_model_except

    ignored = tuple(p for name in varied_names for p in lookup(name).expected_parameters)
    if not ignored:
        return differences, ""
    expected = [
        d
        for d in differences
        if d.subject in a.artifacts
        and d.subject in b.artifacts
        and same_model_except(a.artifacts[d.subject], b.artifacts[d.subject], ignored)
    ]
    if not expected:
        return differences, ""
    kept = [d for d in differences if d not in expected]
    names = ", ".join(d.subject for d in expected)
    return kept, f"{names} differs only in {', '.join(ignored)} (set by the variation)"
