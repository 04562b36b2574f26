"""The checks that train beyond the twins: `seed[N]`, `seed-sensitivity` and `vary[NAME]`.

`seed[N]` compares twin runs per seed (the configured seed reuses the session's
twins); `seed-sensitivity` trains once more with seed+1 and compares with the twins'
run-a; `vary[NAME]` reads the session's one variation hunt.  Each stands down as
`inconclusive` when the twins already differ: no seed or environment can be blamed then.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from pytest_repro.checks.result import SEED_METRICS_PROPERTY, CheckContext, CheckResult, CheckStopped, Effect
from pytest_repro.checks.twin_comparisons import artifacts_column
from pytest_repro.core.outcomes import Kind, Outcome
from pytest_repro.core.seed_bounds import SEED_MAX


def require_reproducible_twins(context: CheckContext) -> Any:
    """The twins, when they agree; else stop as `inconclusive`: any probe's conclusion would be noise.

    A seed or an environment cannot be blamed for a change when two runs with the same
    seed and environment already disagree; the twin checks name that cause.  Nothing
    more is trained.
    """
    from pytest_repro.diagnose.compare import compare_runs

    settings = context.settings
    twins = context.twins()
    differences = compare_runs(twins.a, twins.b, settings.tolerance, volatility=settings.volatility())
    if differences:
        what = ", ".join(d.subject for d in differences)
        message = f"inconclusive: the twins already differ ({what}); see the failing twin checks"
        detail = f"the twins already differ ({what})"
        raise CheckStopped(CheckResult(Outcome.INCONCLUSIVE, detail, message, effect=Effect.SKIP))
    return twins


def check_seed(context: CheckContext, subject: int) -> CheckResult:
    """One seed of the sweep: its twin runs agree, and its metrics join the spread."""
    from pytest_repro.diagnose.compare import compare_runs
    from pytest_repro.variations.seeds import configured_seed

    settings, seed = context.settings, subject
    reuse = configured_seed(settings.seed, settings.config_path) == seed
    twins = context.twins(None if reuse else seed)
    properties = ((SEED_METRICS_PROPERTY, json.dumps({"seed": seed, "metrics": twins.a.metrics})),)
    differences = compare_runs(twins.a, twins.b, settings.tolerance, volatility=settings.volatility())
    columns = {"a": artifacts_column(twins.a.hashes), "b": artifacts_column(twins.b.hashes)}
    if differences:
        message = (
            f"seed {seed}: the twin runs differ\n"
            + "\n".join(d.render() for d in differences)
            + f"\nrerun: pytest --repro --repro-seed {seed}"
        )
        detail = ", ".join(d.subject for d in differences)
        return CheckResult(Outcome.DIFFERS, detail, message, properties=properties, **columns)
    detail = "twins of the configured seed" if reuse else ""
    return CheckResult(Outcome.IDENTICAL, detail, properties=properties, **columns)


def check_seed_sensitivity(context: CheckContext, subject: str) -> CheckResult:
    """Train once more with seed+1: an output that never changes means the seed is not consumed."""
    from pytest_repro.variations.seeds import (
        MODEL_INDEPENDENT,
        UNUSED,
        ReproSeedWarning,
        configured_seed,
        seed_sensitivity,
    )

    settings, probes = context.settings, context.probes
    command = settings.command
    if command is not None and not command.takes_seed:
        return CheckResult(
            Outcome.SKIPPED,
            "the command sets its own seed",
            "the command takes no {seed}: its seed is set inside the script, not by pytest-repro, so "
            "a seed cannot be varied (the twin checks still prove the runs agree); pass {seed} to "
            "the script (e.g. --seed {seed}) to have it checked",
        )
    seed = configured_seed(settings.seed, settings.config_path)
    if seed is None:
        return CheckResult(
            Outcome.SKIPPED,
            "no seed known",
            "cannot tell the configured seed: pass --repro-seed N or give the config a top-level seed",
        )
    other = other_seed(seed)
    run = require_reproducible_twins(context).a
    # A swept seed+1 already has its twins: reuse their run-a rather than train again.
    other_run = context.twins(other).a if other in probes.seeds else _train(context, other, run)
    found = seed_sensitivity(run, other_run, seed, other)
    if found.verdict == UNUSED:
        detail = f"seed {seed} vs {other}: every output identical"
        if probes.sensitivity == "fail":
            message = found.message() + "\n(--repro-seed-sensitivity=warn makes this a warning)"
            return CheckResult(UNUSED, detail, message, effect=Effect.FAIL)
        # Attributed to the config's seed line, which is what the warning is about.
        config_path = settings.config_path
        warnings.warn_explicit(found.message(), ReproSeedWarning, str(config_path), _seed_line(config_path))
        return CheckResult(UNUSED, detail)
    if found.verdict == MODEL_INDEPENDENT:
        return CheckResult(MODEL_INDEPENDENT, found.message())
    return CheckResult(found.verdict, f"seed {other} changed {', '.join(found.changed)}")


def _train(context: CheckContext, seed: int, like: Any) -> Any:
    """One run with `seed`, in run-a's isolation and thread count (queued behind the twins)."""
    from pytest_repro.core.entry_points import ContractError
    from pytest_repro.running.launcher import TrainingFailed

    try:
        return context.train_seed(seed, like)
    except (TrainingFailed, ContractError) as exc:
        message = f"the run with seed {seed} failed:\n{exc}"
        raise CheckStopped(
            CheckResult(Outcome.FAILED, message=message, effect=Effect.FAIL, row=False)
        ) from None


def check_variation(context: CheckContext, subject: str) -> CheckResult:
    """One variation of the environment: the varied run's output equals the reference's."""
    from pytest_repro.variations import ALONE, INFORMATIONAL, PORTABILITY, VariationError

    variation = subject
    twins = require_reproducible_twins(context)
    try:
        report = context.variation_report(context.probes.vary, twins.a.variables_read)
    except VariationError as exc:
        raise CheckStopped(
            CheckResult(Outcome.FAILED, message=str(exc), effect=Effect.FAIL, row=False)
        ) from None
    properties: tuple[tuple[str, str], ...] = ()
    if context.report_wanted:  # the whole hunt, so the controller can draw the matrix under xdist too
        from pytest_repro.report.gathering import VARIATIONS_PROPERTY

        properties = ((VARIATIONS_PROPERTY, json.dumps(report.to_json(), sort_keys=True)),)

    def result(status: Outcome, detail: str, message: str = "", effect: Effect | None = None) -> CheckResult:
        return CheckResult(status, detail, message, properties=properties, effect=effect)

    outcome = report.outcomes[variation]
    change = f"{outcome.reference} -> {outcome.varied}"
    named = f"{variation} ({change})"
    rerun = f"rerun: {_rerun(context, report, (variation,))}"
    if outcome.status.kind is Kind.SKIPPED:
        return result(outcome.status, outcome.note, f"{variation} {outcome.status}: {outcome.note}")
    if variation in INFORMATIONAL:
        if outcome.status is Outcome.FAILED:
            return result(Outcome.FAILED, change, f"{named}: the training failed\n{outcome.error}")
        return result(outcome.status, outcome.what_differed())
    if variation in PORTABILITY and outcome.status in (Outcome.IDENTICAL, Outcome.PORTABILITY):
        # Another machine's kernels: reported; `--repro-portability=fail` turns a change into `differs`.
        return result(
            outcome.status, f"{change}: {outcome.what_differed()}" if outcome.differences else change
        )
    if report.control is not None and report.control.broke:
        message = (
            "the training is not reproducible even without any variation (a control run with the "
            "reference environment differs), so no variation can be blamed; the twin checks show why:\n"
            + report.control.what_differed()
        )
        return result(Outcome.INCONCLUSIVE, "the control run differs too", message, Effect.FAIL)
    if report.interaction:
        assert report.combined is not None
        checked = ", ".join(n for n in report.selected if n not in ALONE)
        message = (
            f"{named} alone leaves the output identical, but varying {checked} at once changes it:\n"
            + "\n".join(d.render() for d in report.combined.differences)
            + f"\nrerun: {_rerun(context, report, report.selected)}"
        )
        return result(Outcome.INTERACTION, "identical alone; all variations at once differ", message)
    if outcome.status is Outcome.IDENTICAL:
        together = "in the all-at-once run" if outcome.tested == "together" else "alone"
        return result(Outcome.IDENTICAL, "; ".join(filter(None, [f"{change}, {together}", outcome.note])))
    detail = f"{change}: {outcome.what_differed()}"
    if outcome.error:
        return result(
            outcome.status, detail, f"{named} breaks the training:\n{outcome.error}\n{rerun}", Effect.FAIL
        )
    body = "\n".join(d.render() for d in outcome.differences)
    cause = f"{outcome.cause}\n" if outcome.cause else ""  # the recorded line of the user's code leads
    return result(outcome.status, detail, f"{cause}{named} changes the output:\n{body}\n{rerun}", Effect.FAIL)


def _rerun(context: CheckContext, report: Any, names: tuple[str, ...]) -> str:
    """The `repro-vary` line that retrains `names`, run as printed in the rootdir (no config file: none named)."""
    from pytest_repro.variations import rerun_command

    return rerun_command(report, names, context.rootpath, fail_portability=context.probes.fail_portability)


def other_seed(seed: int) -> int:
    """The seed the sensitivity probe compares with: seed + 1 (seed - 1 at the top of the range)."""
    return seed + 1 if seed < SEED_MAX else seed - 1


def sensitivity_seed(settings: Any, probes: Any) -> int | None:
    """The seed the sensitivity probe will train, or None when it trains nothing.

    It trains nothing when it is off, when a command takes no seed, when no seed is
    known, or when the seed sweep already trains the other seed.
    """
    from pytest_repro.variations.seeds import configured_seed

    if probes.sensitivity == "off" or (settings.command is not None and not settings.command.takes_seed):
        return None
    seed = configured_seed(settings.seed, settings.config_path)
    if seed is None:
        return None
    other = other_seed(seed)
    return None if other in probes.seeds else other


def collect_seed_metrics(found: MutableMapping[int, Any], properties: Any) -> None:
    """Keep the run-a metrics a `seed[N]` check reported, for the sweep's spread."""
    for name, value in properties:
        if name == SEED_METRICS_PROPERTY:
            record = json.loads(value)
            found[int(record["seed"])] = record["metrics"]


def seed_spread(found: MutableMapping[int, Any]) -> list[str]:
    """The terminal-summary lines of the seed sweep (none for fewer than two seeds)."""
    if len(found) < 2:
        return []
    from pytest_repro.variations.seeds import spread_lines

    return ["", *spread_lines(found)]


def _seed_line(config_path: Path) -> int:
    """The line of the config's top-level `seed:` key (1 when there is none)."""
    from pytest_repro.core.config_files import MAX_CONFIG_BYTES
    from pytest_repro.core.regular_files import read_regular

    try:
        lines = read_regular(config_path, MAX_CONFIG_BYTES).decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((number for number, line in enumerate(lines, 1) if re.match(r"seed\s*:", line)), 1)
