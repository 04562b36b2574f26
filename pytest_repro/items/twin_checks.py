"""The twin checks: artifacts, folds, metrics, each run's lineage, and the replay of a recorded lineage."""

from __future__ import annotations

import json
from typing import Any

from pytest_repro.items.base import (
    TWIN_SECONDS_PROPERTY,
    ReproCheckError,
    ReproItem,
    ReproMismatch,
    artifacts_column,
    digest_lines,
)
from pytest_repro.outcomes import Outcome
from pytest_repro.settings import ReproSettings

NO_FOLDS = (
    "the training returns no folds, so there are none to compare (optional: a function training "
    "returns 'folds', its CV test rows per fold)"
)
NO_RECORDED_FOLDS = "the recorded run's lineage records no folds (cv_folds), so there are none to compare"
NO_RECORDED_METRICS = (
    "the recorded run kept no output holding the metrics run-b returned (a JSON file of them), so "
    "there are none to compare; its outputs are compared byte for byte"
)


class TwinCheck(ReproItem):
    """One comparison between the twin runs of the configured training."""

    def __init__(self, *, kind: str, subject: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.kind = kind
        self.subject = subject
        self.add_marker("repro")
        if kind == "lineage":
            self.add_marker("lineage")

    def runtest(self) -> None:
        from pytest_repro.diagnose.compare import (
            MissingArtifact,
            compare_artifact,
            compare_folds,
            compare_metrics,
        )
        from pytest_repro.diagnose.declared import IgnoreError

        settings: ReproSettings = self.parent.settings  # type: ignore[attr-defined]
        twins = self.twins_or_not_run(settings)
        a, b = twins.a, twins.b
        self.user_properties.append((TWIN_SECONDS_PROPERTY, f"{twins.seconds:.1f}"))
        self._attach_environments(a, b)
        if self.kind == "lineage":
            self._check_lineage(a if self.subject == "run-a" else b)
            if self.subject == "run-b":
                self._compare_lineages(a, b, recorded=twins.recorded)
            return
        if self.kind == "replay":
            # Against a recorded run, the fresh run is run-b and the recorded lineage the one given.
            self._replay(b if twins.recorded else a, settings)
            return
        volatility = settings.volatility()
        if volatility and self.kind in ("artifact", "artifacts"):
            a, b = self._paired(volatility, a, b)
        try:
            if self.kind == "artifact":
                self._record(a.hashes.get(self.subject), b.hashes.get(self.subject))
                difference = compare_artifact(self.subject, a, b, volatility=volatility)
                self._declared(volatility, a, b, first=self.subject == settings.artifacts[0])
            elif self.kind == "artifacts":
                self._compare_every_artifact(a, b, volatility, twins, settings)
                return
            elif self.kind == "folds":
                if a.folds is None and b.folds is None:
                    self._summary(Outcome.SKIPPED, "the training returns no folds")
                    self.skip(NO_FOLDS)
                if twins.recorded and a.folds is None and a.folds_sha256 is None:
                    self._summary(Outcome.SKIPPED, "the recorded lineage records no folds")
                    self.skip(NO_RECORDED_FOLDS)
                self._record(
                    _fold_digest(a.folds), _fold_digest(b.folds), detail=f"{len(a.folds or [])} folds"
                )
                difference = compare_folds(a, b)
            else:
                if a.metrics is None:
                    self._summary(Outcome.SKIPPED, "the recorded run kept no metrics")
                    self.skip(NO_RECORDED_METRICS)
                if not a.metrics and not b.metrics:
                    short, reason = _no_metrics(settings)
                    self._summary(Outcome.SKIPPED, short)
                    self.skip(reason)
                self._record(_metrics_digest(a.metrics), _metrics_digest(b.metrics))
                difference = compare_metrics(a, b, settings.tolerance, volatility)
        except (MissingArtifact, IgnoreError) as exc:
            raise ReproCheckError(str(exc)) from None
        if difference is not None:
            self._summary(Outcome.DIFFERS)
            cause = self._cause(twins, settings)
            raise ReproMismatch(
                "\n".join(filter(None, [cause, difference.render(), _ignored_line(volatility)]))
            )
        if volatility.ignored:
            self._summary(Outcome.IGNORED, volatility.shown())
            return
        self._summary(Outcome.IDENTICAL if self.kind != "metrics" else Outcome.EQUAL)

    def _paired(self, volatility: Any, a: Any, b: Any) -> tuple[Any, Any]:
        """Both runs with their outputs paired by the `{id}` rules; an ambiguous pairing fails in one line."""
        from pytest_repro.diagnose.declared import IgnoreError

        try:
            return volatility.pair(a, b)
        except IgnoreError as exc:
            self._summary(Outcome.INVALID, "repro_ignore pairing is ambiguous")
            raise ReproCheckError(str(exc)) from None

    def _declared(self, volatility: Any, a: Any, b: Any, *, first: bool = True) -> None:
        """Fail, in one line a rule, when a `repro_ignore` rule matched nothing: a typo must not ignore nothing.

        A rule no output matches is reported once, by the first artifact check; a pointer
        found in no output its glob matched, by the check of that output.
        """
        from pytest_repro.diagnose.declared import IGNORED_PROPERTY

        names = set(a.artifacts) | set(b.artifacts)
        lines = volatility.unmatched(names)
        if not first:
            lines = [line for line in lines if "matched no output" not in line]
        if volatility.ignored:
            self.user_properties.append((IGNORED_PROPERTY, volatility.shown()))
        if lines:
            self._summary(Outcome.INVALID, lines[0])
            raise ReproCheckError("\n".join(lines))

    def _compare_every_artifact(
        self, a: Any, b: Any, volatility: Any, twins: Any, settings: ReproSettings
    ) -> None:
        """Every output in one check: the row names only those that differ, the failure each file's digest."""
        from pytest_repro.diagnose.compare import compare_every_artifact

        names = sorted(set(a.artifacts) | set(b.artifacts))
        for label, run in (("run_a", a), ("run_b", b)):
            for name in names:
                self.user_properties.append((f"sha256_{label}[{name}]", run.hashes.get(name, "")))
        difference = compare_every_artifact(a, b, volatility=volatility)
        column_a, column_b = artifacts_column(a.hashes, names), artifacts_column(b.hashes, names)
        self._hashes = (column_a, column_b, _names(names))
        self._declared(volatility, a, b)
        if difference is None:
            if volatility.ignored:
                self._summary(Outcome.IGNORED, volatility.shown())
                return
            self._summary(Outcome.IDENTICAL)
            return
        differing = [
            name
            for name in names
            if a.hashes.get(name) != b.hashes.get(name) and name not in volatility.set_aside
        ]
        self._hashes = (column_a, column_b, f"{len(differing)} of {_names(names, differing)}")
        self._summary(Outcome.DIFFERS)
        cause = self._cause(twins, settings)
        lines = [cause, difference.render(), _ignored_line(volatility), *digest_lines(names, a, b)]
        raise ReproMismatch("\n".join(line for line in lines if line))

    def _cause(self, twins: Any, settings: ReproSettings) -> str | None:
        """The line of the user's code the recorders saw cause the difference; else what narrowing found.

        Narrowing (`running.narrowing`) trains the pair again without one of the twins'
        deliberate differences at a time: once per session and twins, shared by every
        failing check and xdist worker, and only for twins this session trained apart.
        """
        from pytest_repro.diagnose.causes import cause_line

        cause = cause_line(twins.a.events, twins.b.events)
        if cause is not None or twins.recorded or settings.isolation == "inprocess":
            return cause
        from pytest_repro.contract import ContractError
        from pytest_repro.running.launcher import TrainingFailed
        from pytest_repro.running.narrowing import Narrowing, narrow_twins
        from pytest_repro.running.twins import TwinFailure, request_key

        request = settings.request()
        key = "narrow-" + request_key(request, settings.isolation)
        try:
            runs = self.plugin.runs()
            found = runs.shared_cache().get(
                key,
                lambda folder: narrow_twins(request, folder, runs, twins.a),
                to_json=Narrowing.to_json,
                from_json=Narrowing.from_json,
                failure=TwinFailure,
                expected=(TrainingFailed, ContractError),
            )
        except TwinFailure:
            return None  # a rerun failed: no claim, the difference itself stands
        return found.line

    def _attach_environments(self, a: Any, b: Any) -> None:
        """For the HTML report: the twins' recorded environments, read where the runs are (an xdist worker)."""
        if self.plugin.report is not None:
            from pytest_repro.report.collect import RUNS_PROPERTY, runs_property

            self.report_property(RUNS_PROPERTY, lambda: runs_property((a, b)))

    def _check_lineage(self, run: Any) -> None:
        from pytest_repro.errors import ReproError
        from pytest_repro.lineage.check import check

        if run.lineage is None:
            self._summary(Outcome.SKIPPED, "no lineage returned")
            self.skip("the entry point returned no lineage")
        try:
            report = check(run.lineage, write_reports=False)
        except ReproError as exc:
            self._summary(Outcome.INVALID)
            raise ReproCheckError(str(exc)) from None
        self.user_properties.append(("lineage_run_id", str(report.report.run_id)))
        self.user_properties.append(("lineage_signature", report.signature))
        if not report.passed:
            self._summary(Outcome.MISMATCH)
            raise ReproMismatch("\n".join(f.describe() for f in report.failures))
        self._summary(Outcome.VERIFIED, f"{len(report.report.checks)} files, {report.signature}")

    def _compare_lineages(self, a: Any, b: Any, *, recorded: bool = False) -> None:
        """The twins' manifests must agree on everything but their paths (their bytes may not).

        Against a recorded run, on the seed and the inputs both record: the recorded
        run's environment and code are another process's (the replay check names how
        they differ), and a command's run-b has the lineage the plugin recorded for it.
        """
        from pytest_repro.diagnose.json_diff import diff_json_values
        from pytest_repro.lineage.manifest import comparable, read_lineage

        if a.lineage is None:
            return
        kept_a, kept_b = comparable(read_lineage(a.lineage)), comparable(read_lineage(b.lineage))
        pairing = self.parent.settings.volatility()  # type: ignore[attr-defined]
        for kept in (
            kept_a,
            kept_b,
        ):  # output names with generated ids pair as the artifacts check pairs them
            kept["outputs"] = sorted(pairing.paired_name(name) for name in kept["outputs"])
        if recorded:
            kept_a, kept_b = _shared(kept_a, kept_b), _shared(kept_b, kept_a)
        difference = diff_json_values("lineage", kept_a, kept_b, 0.0)
        if difference is not None:
            self._summary(Outcome.DIFFERS, "verified, but differs from run-a's lineage")
            raise ReproMismatch("the twins' lineages differ (paths aside):\n" + difference.render())

    def _replay(self, run: Any, settings: ReproSettings) -> None:
        """Check a fresh run against a lineage recorded earlier (restored from CI's archive, say)."""
        from pytest_repro.diagnose.replay import ReplaySkipped, recorded_lineage, replay_recorded
        from pytest_repro.errors import ReproError

        given = settings.against or settings.lineage_path
        recorded = recorded_lineage(given, settings.config_path, self.config.rootpath)
        try:
            outcome = replay_recorded(recorded, run, settings.volatility())
        except ReplaySkipped as exc:
            self._summary(Outcome.SKIPPED, str(exc))
            self.skip(str(exc))
        except ReproError as exc:  # a recorded lineage that cannot be trusted: no verdict from it
            self._summary(Outcome.INVALID, "the recorded lineage cannot be trusted")
            raise ReproCheckError(f"the recorded lineage cannot be trusted: {exc.lines()[0]}") from None
        self._hashes = (
            outcome.recorded_outputs[:12],
            outcome.fresh_outputs[:12],
            "recorded vs fresh outputs",
        )
        self.user_properties.append(("sha256_recorded_outputs", outcome.recorded_outputs))
        self.user_properties.append(("sha256_fresh_outputs", outcome.fresh_outputs))
        detail = "; ".join(filter(None, [outcome.changed_note, "recorded vs fresh outputs"]))
        if outcome.mismatches:
            self._summary(Outcome.DIFFERS, detail)
            raise ReproMismatch(outcome.render())
        if outcome.ignored:
            # Replay holds digests only: a declared output whose digest moved is set aside whole, and says so.
            from pytest_repro.diagnose.declared import IGNORED_PROPERTY

            ignored = ", ".join(outcome.ignored)
            self.user_properties.append((IGNORED_PROPERTY, ignored))
            self._summary(Outcome.IGNORED, f"{ignored} (its digest differs; replay compares digests only)")
            return
        self._summary(Outcome.REPRODUCED, detail)

    def _record(self, hash_a: str | None, hash_b: str | None, detail: str = "") -> None:
        self.user_properties.append(("sha256_run_a", hash_a or ""))
        self.user_properties.append(("sha256_run_b", hash_b or ""))
        self._hashes = (hash_a or "", hash_b or "", detail)

    def _summary(self, outcome: Outcome, detail: str = "") -> None:
        hash_a, hash_b, recorded = getattr(self, "_hashes", ("", "", ""))
        self.summary(outcome, detail or recorded, hash_a, hash_b)


def _ignored_line(volatility: Any) -> str:
    """`ignored (declared): ...`, the differences `repro_ignore` set aside, shown beside those it did not."""
    return f"{Outcome.IGNORED.shown(volatility.shown())}" if volatility.ignored else ""


def _shared(lineage: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """What a recorded lineage and run-b's can both say: the seed when both record one, shared inputs."""
    inputs = {name: sha for name, sha in lineage["inputs"].items() if name in other["inputs"]}
    seeds = lineage["seed"] is not None and other["seed"] is not None
    return {"inputs": inputs, "seed": lineage["seed"] if seeds else None}


def _fold_digest(folds: list[list[int]] | None) -> str:
    from pytest_repro.lineage.hashing import sha256_bytes

    return sha256_bytes(json.dumps(folds).encode()) if folds is not None else ""


def _metrics_digest(metrics: dict[str, Any]) -> str:
    from pytest_repro.lineage.atomic import canonical_json
    from pytest_repro.lineage.hashing import sha256_bytes

    return sha256_bytes(canonical_json(metrics))


def _names(names: list[str], shown: list[str] | None = None) -> str:
    """`2 artifacts: a, b`, naming `shown` (all by default) when there are at most four of them."""
    shown = names if shown is None else shown
    count = f"{len(names)} artifact{'s' if len(names) != 1 else ''}"
    return f"{count}: {', '.join(shown)}" if len(shown) <= 4 else count


def _no_metrics(settings: ReproSettings) -> tuple[str, str]:
    """Why the metrics check has nothing to compare: the summary's words and the skip's sentence."""
    if settings.command is not None and settings.command.metrics is None:
        return "no metrics configured", (
            "no metrics configured: the command's metrics are not compared unless repro_metrics names "
            'the file it writes them to (JSON, YAML or CSV), e.g. repro_metrics = "reports/metrics.json"'
        )
    return "the training returns no metrics", (
        "the training returns no metrics, so there are none to compare (optional: a function training "
        "returns 'metrics', a command names its metrics file in repro_metrics)"
    )
