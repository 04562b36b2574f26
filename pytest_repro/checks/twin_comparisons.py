"""The twin checks: artifacts, folds, metrics, each run's lineage, and the replay of a recorded lineage.

Each is a plain function of a `CheckContext` and its subject that returns a
`CheckResult`; none of them knows pytest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_repro.checks.result import TWIN_SECONDS_PROPERTY, CheckContext, CheckResult, CheckStopped, Effect
from pytest_repro.core.outcomes import Outcome

NO_FOLDS = (
    "the training returns no folds, so there are none to compare (optional: a function training "
    "returns 'folds', its CV test rows per fold)"
)
NO_RECORDED_FOLDS = "the recorded run's lineage records no folds (cv_folds), so there are none to compare"
NO_RECORDED_METRICS = (
    "the recorded run kept no output holding the metrics run-b returned (a JSON file of them), so "
    "there are none to compare; its outputs are compared byte for byte"
)


class _Twins:
    """The twin runs a check compares, with the properties every twin check reports first."""

    def __init__(self, context: CheckContext):
        self.twins = context.twins()
        self.a, self.b = self.twins.a, self.twins.b
        self.properties: list[tuple[str, str]] = [(TWIN_SECONDS_PROPERTY, f"{self.twins.seconds:.1f}")]
        if context.report_wanted:  # the twins' recorded environments, read where the runs are (a worker)
            from pytest_repro.report.gathering import RUNS_PROPERTY, runs_property

            self.properties.append((RUNS_PROPERTY, runs_property((self.a, self.b))))

    def result(self, outcome: Outcome, detail: str = "", message: str = "", **kwargs: Any) -> CheckResult:
        return CheckResult(outcome, detail, message, properties=tuple(self.properties), **kwargs)


def check_artifact(context: CheckContext, subject: str) -> CheckResult:
    """One declared output, byte for byte (or as its declared volatility allows)."""
    from pytest_repro.diagnose.compare import compare_artifact

    runs = _Twins(context)
    settings = context.settings
    volatility = settings.volatility()
    a, b = _paired(runs, volatility)
    hash_a, hash_b = a.hashes.get(subject) or "", b.hashes.get(subject) or ""
    runs.properties += [("sha256_run_a", hash_a), ("sha256_run_b", hash_b)]
    with _unusable(runs):
        difference = compare_artifact(subject, a, b, volatility=volatility)
    _declared(runs, volatility, a, b, (hash_a, hash_b), first=subject == settings.artifacts[0])
    return _verdict(context, runs, difference, volatility, Outcome.IDENTICAL, hash_a, hash_b, "")


def check_every_artifact(context: CheckContext, subject: str) -> CheckResult:
    """Every output in one check: the row names only those that differ, the failure each file's digest."""
    from pytest_repro.diagnose.compare import compare_every_artifact

    runs = _Twins(context)
    volatility = context.settings.volatility()
    a, b = _paired(runs, volatility)
    names = sorted(set(a.artifacts) | set(b.artifacts))
    for label, run in (("run_a", a), ("run_b", b)):
        for name in names:
            runs.properties.append((f"sha256_{label}[{name}]", run.hashes.get(name, "")))
    with _unusable(runs):
        difference = compare_every_artifact(a, b, volatility=volatility)
    columns = (artifacts_column(a.hashes, names), artifacts_column(b.hashes, names))
    _declared(runs, volatility, a, b, columns, detail=_names(names))
    if difference is None:
        return _verdict(context, runs, None, volatility, Outcome.IDENTICAL, *columns, _names(names))
    differing = [
        name
        for name in names
        if a.hashes.get(name) != b.hashes.get(name) and name not in volatility.set_aside
    ]
    lines = [
        _cause(context, runs.twins),
        difference.render(),
        _ignored_line(volatility),
        *digest_lines(names, a, b),
    ]
    detail = f"{len(differing)} of {_names(names, differing)}"
    return runs.result(
        Outcome.DIFFERS, detail, "\n".join(line for line in lines if line), a=columns[0], b=columns[1]
    )


def check_folds(context: CheckContext, subject: str) -> CheckResult:
    """The CV folds the twins report (their test rows per fold) are the same."""
    from pytest_repro.diagnose.compare import compare_folds

    runs = _Twins(context)
    a, b = runs.a, runs.b
    if a.folds is None and b.folds is None:
        return runs.result(Outcome.SKIPPED, "the training returns no folds", NO_FOLDS)
    if runs.twins.recorded and a.folds is None and a.folds_sha256 is None:
        return runs.result(Outcome.SKIPPED, "the recorded lineage records no folds", NO_RECORDED_FOLDS)
    hash_a, hash_b = _fold_digest(a.folds), _fold_digest(b.folds)
    runs.properties += [("sha256_run_a", hash_a), ("sha256_run_b", hash_b)]
    volatility = context.settings.volatility()
    with _unusable(runs):
        difference = compare_folds(a, b)
    detail = f"{len(a.folds or [])} folds"
    return _verdict(context, runs, difference, volatility, Outcome.IDENTICAL, hash_a, hash_b, detail)


def check_metrics(context: CheckContext, subject: str) -> CheckResult:
    """The metrics the twins report are equal within the tolerance."""
    from pytest_repro.diagnose.compare import compare_metrics

    runs = _Twins(context)
    settings = context.settings
    a, b = runs.a, runs.b
    if a.metrics is None:
        return runs.result(Outcome.SKIPPED, "the recorded run kept no metrics", NO_RECORDED_METRICS)
    if not a.metrics and not b.metrics:
        return runs.result(Outcome.SKIPPED, *_no_metrics(settings))
    hash_a, hash_b = _metrics_digest(a.metrics), _metrics_digest(b.metrics)
    runs.properties += [("sha256_run_a", hash_a), ("sha256_run_b", hash_b)]
    volatility = settings.volatility()
    with _unusable(runs):
        difference = compare_metrics(a, b, settings.tolerance, volatility)
    return _verdict(context, runs, difference, volatility, Outcome.EQUAL, hash_a, hash_b, "")


def check_run_lineage(context: CheckContext, subject: str) -> CheckResult:
    """One run's lineage matches its files; run-b's also agrees with run-a's, paths aside."""
    from pytest_repro.checks.lineage_file import verify_lineage

    runs = _Twins(context)
    run = runs.a if subject == "run-a" else runs.b
    if run.lineage is None:
        return runs.result(Outcome.SKIPPED, "no lineage returned", "the entry point returned no lineage")
    verified = verify_lineage(run.lineage)
    runs.properties += verified.properties
    if verified.outcome is not Outcome.VERIFIED:
        return runs.result(verified.outcome, "", verified.message)
    if subject == "run-b":
        difference = _lineage_difference(context, runs.a, runs.b, recorded=runs.twins.recorded)
        if difference is not None:
            return runs.result(
                Outcome.DIFFERS,
                "verified, but differs from run-a's lineage",
                "the twins' lineages differ (paths aside):\n" + difference.render(),
            )
    return runs.result(Outcome.VERIFIED, verified.detail)


def check_replay(context: CheckContext, subject: str) -> CheckResult:
    """Check a fresh run against a lineage recorded earlier (restored from CI's archive, say)."""
    from pytest_repro.diagnose.declared import IGNORED_PROPERTY
    from pytest_repro.diagnose.replay import ReplaySkipped, recorded_lineage, replay_recorded
    from pytest_repro.errors import ReproError

    runs = _Twins(context)
    settings = context.settings
    # Against a recorded run, the fresh run is run-b and the recorded lineage the one given.
    run = runs.b if runs.twins.recorded else runs.a
    given = settings.against or settings.lineage_path
    recorded = recorded_lineage(given, settings.config_path, context.rootpath)
    try:
        outcome = replay_recorded(recorded, run, settings.volatility())
    except ReplaySkipped as exc:
        return runs.result(Outcome.SKIPPED, str(exc), str(exc))
    except ReproError as exc:  # a recorded lineage that cannot be trusted: no verdict from it
        message = f"the recorded lineage cannot be trusted: {exc.lines()[0]}"
        return runs.result(Outcome.INVALID, "the recorded lineage cannot be trusted", message)
    columns = {"a": outcome.recorded_outputs[:12], "b": outcome.fresh_outputs[:12]}
    runs.properties += [
        ("sha256_recorded_outputs", outcome.recorded_outputs),
        ("sha256_fresh_outputs", outcome.fresh_outputs),
    ]
    detail = "; ".join(filter(None, [outcome.changed_note, "recorded vs fresh outputs"]))
    if outcome.mismatches:
        return runs.result(Outcome.DIFFERS, detail, outcome.render(), **columns)
    if outcome.ignored:
        # Replay holds digests only: a declared output whose digest moved is set aside whole, and says so.
        ignored = ", ".join(outcome.ignored)
        runs.properties.append((IGNORED_PROPERTY, ignored))
        shown = f"{ignored} (its digest differs; replay compares digests only)"
        return runs.result(Outcome.IGNORED, shown, **columns)
    return runs.result(Outcome.REPRODUCED, detail, **columns)


def _verdict(
    context: CheckContext,
    runs: _Twins,
    difference: Any,
    volatility: Any,
    agreed: Outcome,
    hash_a: str,
    hash_b: str,
    detail: str,
) -> CheckResult:
    """`differs` with the diagnosis, `ignored (declared)` when every difference was declared, else `agreed`."""
    columns = {"a": hash_a, "b": hash_b}
    if difference is not None:
        lines = [_cause(context, runs.twins), difference.render(), _ignored_line(volatility)]
        return runs.result(Outcome.DIFFERS, detail, "\n".join(filter(None, lines)), **columns)
    if volatility.ignored:
        return runs.result(Outcome.IGNORED, volatility.shown(), **columns)
    return runs.result(agreed, detail, **columns)


class _unusable:
    """Turn an output that is missing or a declaration that cannot be applied into one failing line.

    Such a failure has no row: the check compared nothing it could name.
    """

    def __init__(self, runs: _Twins):
        self.runs = runs

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        from pytest_repro.diagnose.compare import MissingArtifact
        from pytest_repro.diagnose.declared import IgnoreError

        if isinstance(exc, MissingArtifact | IgnoreError):
            raise CheckStopped(
                self.runs.result(Outcome.FAILED, message=str(exc), effect=Effect.FAIL, row=False)
            ) from None
        return False


def _paired(runs: _Twins, volatility: Any) -> tuple[Any, Any]:
    """Both runs with their outputs paired by the `{id}` rules; an ambiguous pairing fails in one line."""
    from pytest_repro.diagnose.declared import IgnoreError

    if not volatility:
        return runs.a, runs.b
    try:
        return volatility.pair(runs.a, runs.b)
    except IgnoreError as exc:
        raise CheckStopped(
            runs.result(Outcome.INVALID, "repro_ignore pairing is ambiguous", str(exc))
        ) from None


def _declared(
    runs: _Twins,
    volatility: Any,
    a: Any,
    b: Any,
    columns: tuple[str, str],
    *,
    first: bool = True,
    detail: str = "",
) -> None:
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
        runs.properties.append((IGNORED_PROPERTY, volatility.shown()))
    if lines:
        result = runs.result(Outcome.INVALID, lines[0], "\n".join(lines), a=columns[0], b=columns[1])
        raise CheckStopped(result)


def _cause(context: CheckContext, twins: Any) -> str | None:
    """The line of the user's code the recorders saw cause the difference; else what narrowing found.

    Narrowing (`running.narrowing`) trains the pair again without one of the twins'
    deliberate differences at a time, and only for twins this session trained apart.
    """
    from pytest_repro.diagnose.causes import cause_line

    cause = cause_line(twins.a.events, twins.b.events)
    if cause is not None or twins.recorded or context.settings.isolation == "inprocess":
        return cause
    return context.narrowed_cause(twins)


def _lineage_difference(context: CheckContext, a: Any, b: Any, *, recorded: bool) -> Any:
    """How the twins' manifests disagree on anything but their paths (their bytes may), or None.

    Against a recorded run, on the seed and the inputs both record: the recorded
    run's environment and code are another process's (the replay check names how
    they differ), and a command's run-b has the lineage the plugin recorded for it.
    """
    from pytest_repro.diagnose.json_diff import diff_json_values
    from pytest_repro.lineage.manifest import comparable, read_lineage

    if a.lineage is None:
        return None
    kept_a, kept_b = comparable(read_lineage(a.lineage)), comparable(read_lineage(b.lineage))
    pairing = context.settings.volatility()
    for kept in (kept_a, kept_b):  # output names with generated ids pair as the artifacts check pairs them
        kept["outputs"] = sorted(pairing.paired_name(name) for name in kept["outputs"])
    if recorded:
        kept_a, kept_b = _shared(kept_a, kept_b), _shared(kept_b, kept_a)
    return diff_json_values("lineage", kept_a, kept_b, 0.0)


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


def _no_metrics(settings: Any) -> tuple[str, str]:
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
