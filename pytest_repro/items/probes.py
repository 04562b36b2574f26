"""Generated items beyond the twin checks: `vary[NAME]`, `seed[N]` and `seed-sensitivity`.

They sit under the config file node beside the twin checks and are marked `repro`, so
they are skipped without `--repro`.  All `vary[...]` items of a session share one
auto-mode computation (`pytest_repro.variations.catalogue`), cached on disk under a file lock
like the twin runs, so xdist workers compute it once.  `seed[N]` items are twin runs
per seed (the configured seed reuses the session's twins); `seed-sensitivity` trains
once more with seed+1 and compares with the twins' run-a.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.contract import SEED_MAX
from pytest_repro.items.base import (
    PLUGIN_KEY,
    SEED_METRICS_PROPERTY,
    ReproCheckError,
    ReproItem,
    ReproMismatch,
    artifacts_column,
)
from pytest_repro.outcomes import Outcome


def probe_items(parent: pytest.File) -> Iterator[pytest.Item]:
    """Yield the seed, sensitivity and variation items the settings ask for.

    Against a recorded run (CI's one extra training) the seed probe trains only when the
    command line asks for it (`--repro-seed-sensitivity warn|fail`).
    """
    probes = parent.config.stash[PLUGIN_KEY].probes
    for seed in probes.seeds:
        yield SeedCheck.child(parent, f"seed[{seed}]", seed=seed)
    asked = parent.config.getoption("repro_seed_sensitivity") is not None
    if probes.sensitivity != "off" and (parent.settings.against is None or asked):  # type: ignore[attr-defined]
        yield SeedSensitivityCheck.child(parent, "seed-sensitivity")
    for name in probes.vary:
        yield VariationCheck.child(parent, f"vary[{name}]", variation=name)


def collect_seed_metrics(found: MutableMapping[int, Any], properties: Any) -> None:
    """Keep the run-a metrics a `seed[N]` item reported, for the sweep's spread."""
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


class ProbeCheck(ReproItem):
    """Shared reporting of the probe items: a summary row, and failures without tracebacks."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # Probes train beyond the twins; `-m repro` selects the twin checks alone.
        self.add_marker("repro_probe")

    @property
    def settings(self) -> Any:
        return self.parent.settings  # type: ignore[attr-defined]

    def twins(self, seed: int | None = None) -> Any:
        return self.twins_or_not_run(self.settings, seed)

    def require_reproducible_twins(self) -> Any:
        """Stand down when the twins already differ: any probe's conclusion would be noise.

        A seed or an environment cannot be blamed for a change when two runs with the same
        seed and environment already disagree; the twin checks name that cause.  Nothing
        more is trained.  Returns the twins when they agree.
        """
        from pytest_repro.diagnose.compare import compare_runs

        twins = self.twins()
        differences = compare_runs(
            twins.a, twins.b, self.settings.tolerance, volatility=self.settings.volatility()
        )
        if differences:
            what = ", ".join(d.subject for d in differences)
            self.summary(Outcome.INCONCLUSIVE, f"the twins already differ ({what})")
            self.skip(f"inconclusive: the twins already differ ({what}); see the failing twin checks")
        return twins


class SeedCheck(ProbeCheck):
    """One seed of the sweep: its twin runs agree, and its metrics join the spread."""

    def __init__(self, *, seed: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = seed

    def runtest(self) -> None:
        from pytest_repro.diagnose.compare import compare_runs
        from pytest_repro.variations.seeds import configured_seed

        reuse = configured_seed(self.settings.seed, self.settings.config_path) == self.seed
        twins = self.twins(None if reuse else self.seed)
        self.user_properties.append(
            (SEED_METRICS_PROPERTY, json.dumps({"seed": self.seed, "metrics": twins.a.metrics}))
        )
        differences = compare_runs(
            twins.a, twins.b, self.settings.tolerance, volatility=self.settings.volatility()
        )
        model_a, model_b = artifacts_column(twins.a.hashes), artifacts_column(twins.b.hashes)
        if differences:
            self.summary(Outcome.DIFFERS, ", ".join(d.subject for d in differences), model_a, model_b)
            raise ReproMismatch(
                f"seed {self.seed}: the twin runs differ\n"
                + "\n".join(d.render() for d in differences)
                + f"\nrerun: pytest --repro --repro-seed {self.seed}"
            )
        self.summary(Outcome.IDENTICAL, "twins of the configured seed" if reuse else "", model_a, model_b)


class SeedSensitivityCheck(ProbeCheck):
    """Train once more with seed+1: an output that never changes means the seed is not consumed."""

    def runtest(self) -> None:
        from pytest_repro.variations.seeds import (
            MODEL_INDEPENDENT,
            UNUSED,
            ReproSeedWarning,
            configured_seed,
            seed_sensitivity,
        )

        command = self.settings.command
        if command is not None and not command.takes_seed:
            self.summary(Outcome.SKIPPED, "the command sets its own seed")
            self.skip(
                "the command takes no {seed}: its seed is set inside the script, not by pytest-repro, so "
                "a seed cannot be varied (the twin checks still prove the runs agree); pass {seed} to "
                "the script (e.g. --seed {seed}) to have it checked"
            )
        seed = configured_seed(self.settings.seed, self.settings.config_path)
        if seed is None:
            self.summary(Outcome.SKIPPED, "no seed known")
            self.skip(
                "cannot tell the configured seed: pass --repro-seed N or give the config a top-level seed"
            )
        other = other_seed(seed)
        run = self.require_reproducible_twins().a
        # A swept seed+1 already has its twins: reuse their run-a rather than train again.
        other_run = self.twins(other).a if other in self.plugin.probes.seeds else self._train(other, run)
        found = seed_sensitivity(run, other_run, seed, other)
        if found.verdict == UNUSED:
            self.summary(UNUSED, f"seed {seed} vs {other}: every output identical")
            if self.plugin.probes.sensitivity == "fail":
                raise ReproMismatch(
                    found.message() + "\n(--repro-seed-sensitivity=warn makes this a warning)"
                )
            # Attributed to the config's seed line, which is what the warning is about.
            config_path = self.settings.config_path
            warnings.warn_explicit(
                found.message(), ReproSeedWarning, str(config_path), _seed_line(config_path)
            )
        elif found.verdict == MODEL_INDEPENDENT:
            self.summary(MODEL_INDEPENDENT, found.message())
        else:
            self.summary(found.verdict, f"seed {other} changed {', '.join(found.changed)}")

    def _train(self, seed: int, like: Any) -> Any:
        """One run with `seed`, in run-a's isolation and thread count (queued behind the twins)."""
        from pytest_repro.contract import ContractError
        from pytest_repro.running.launcher import TrainingFailed

        settings = self.settings
        try:
            return self.plugin.runs().probe_run(seed, settings.request(seed), like, settings.isolation)
        except (TrainingFailed, ContractError) as exc:
            raise ReproCheckError(f"the run with seed {seed} failed:\n{exc}") from None


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


def plan_seed_probe(plugin: Any, items: list[pytest.Item]) -> None:
    """When a selected seed-sensitivity check will train seed + 1, have it queued right behind the twins.

    It queues once the configured twins are known to agree: twins that differ make the
    probe inconclusive, so it must not train then.  In process, nothing is queued.
    """
    settings = plugin.settings
    if settings.isolation == "inprocess" or not any(isinstance(i, SeedSensitivityCheck) for i in items):
        return
    seed = sensitivity_seed(settings, plugin.probes)
    if seed is not None:
        plugin.runs().plan_seed_probe(
            seed, settings.request(seed), lambda twins: twins_agree(twins, settings.tolerance)
        )


def twins_agree(twins: Any, tolerance: float) -> bool:
    """Whether the twins agree by their digests, folds and metrics alone (the checks diagnose the rest)."""
    from pytest_repro.diagnose.compare import compare_metrics

    if twins.a.hashes != twins.b.hashes or twins.a.folds != twins.b.folds:
        return False
    return twins.a.metrics is None or compare_metrics(twins.a, twins.b, tolerance) is None


class VariationCheck(ProbeCheck):
    """One variation of the environment: the varied run's output equals the reference's."""

    def __init__(self, *, variation: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.variation = variation

    def runtest(self) -> None:
        from pytest_repro.outcomes import Kind
        from pytest_repro.variations import ALONE, INFORMATIONAL, PORTABILITY

        twins = self.require_reproducible_twins()
        report = self._report(twins.a)
        self._attach_hunt(report)
        outcome = report.outcomes[self.variation]
        change = f"{outcome.reference} -> {outcome.varied}"
        named = f"{self.variation} ({change})"
        rerun = f"rerun: {self._rerun(report, (self.variation,))}"
        if outcome.status.kind is Kind.SKIPPED:
            self.summary(outcome.status, outcome.note)
            self.skip(f"{self.variation} {outcome.status}: {outcome.note}")
        if self.variation in INFORMATIONAL:
            if outcome.status is Outcome.FAILED:
                self.summary(Outcome.FAILED, change)
                raise ReproCheckError(f"{named}: the training failed\n{outcome.error}")
            self.summary(outcome.status, outcome.what_differed())
            return
        if self.variation in PORTABILITY and outcome.status in (Outcome.IDENTICAL, Outcome.PORTABILITY):
            # Another machine's kernels: reported; `--repro-portability=fail` turns a change into `differs`.
            self.summary(
                outcome.status, f"{change}: {outcome.what_differed()}" if outcome.differences else change
            )
            return
        if report.control is not None and report.control.broke:
            self.summary(Outcome.INCONCLUSIVE, "the control run differs too")
            raise ReproMismatch(
                "the training is not reproducible even without any variation (a control run with the "
                "reference environment differs), so no variation can be blamed; the twin checks show why:\n"
                + report.control.what_differed()
            )
        if report.interaction:
            assert report.combined is not None
            self.summary(Outcome.INTERACTION, "identical alone; all variations at once differ")
            checked = ", ".join(n for n in report.selected if n not in ALONE)
            raise ReproMismatch(
                f"{named} alone leaves the output identical, but varying {checked} at once changes it:\n"
                + "\n".join(d.render() for d in report.combined.differences)
                + f"\nrerun: {self._rerun(report, report.selected)}"
            )
        if outcome.status is Outcome.IDENTICAL:
            together = "in the all-at-once run" if outcome.tested == "together" else "alone"
            self.summary(Outcome.IDENTICAL, "; ".join(filter(None, [f"{change}, {together}", outcome.note])))
            return
        self.summary(outcome.status, f"{change}: {outcome.what_differed()}")
        if outcome.error:
            raise ReproMismatch(f"{named} breaks the training:\n{outcome.error}\n{rerun}")
        body = "\n".join(d.render() for d in outcome.differences)
        cause = f"{outcome.cause}\n" if outcome.cause else ""  # the recorded line of the user's code leads
        raise ReproMismatch(f"{cause}{named} changes the output:\n{body}\n{rerun}")

    def _attach_hunt(self, report: Any) -> None:
        """For the HTML report: the whole hunt, so the controller can draw the matrix under xdist too."""
        if self.plugin.report is not None:
            from pytest_repro.report.collect import VARIATIONS_PROPERTY

            self.report_property(VARIATIONS_PROPERTY, lambda: json.dumps(report.to_json(), sort_keys=True))

    def _report(self, twin: Any) -> Any:
        from pytest_repro.variations import VariationError

        names = self.plugin.probes.vary
        try:
            return shared_variation_report(
                self.plugin, self.settings, names, self.config.rootpath, twin.variables_read
            )
        except VariationError as exc:
            raise ReproCheckError(str(exc)) from None

    def _rerun(self, report: Any, names: tuple[str, ...]) -> str:
        """The `repro-vary` line that retrains `names`, run as printed in the rootdir (no config file: none named)."""
        from pytest_repro.variations import rerun_command

        return rerun_command(
            report, names, self.config.rootpath, fail_portability=self.plugin.probes.fail_portability
        )


def shared_variation_report(
    plugin: Any,
    settings: Any,
    names: tuple[str, ...],
    rootpath: Path,
    variables_read: tuple[str, ...] | None = None,
) -> Any:
    """Return the session's variation report, computed by the first xdist worker that asks.

    `variables_read` are the cooperation variables the twins were seen to read: a
    variation whose variable they never read is `not exercised` without training it.
    """
    from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
    from pytest_repro.variations import VariationError, VariationReport, run_variations

    if settings.entry is None:
        raise pytest.UsageError("pytest-repro: set repro_train = 'module:function' in the ini settings")
    request = settings.request()
    try:
        config_hash = sha256_file(settings.config_path)
    except OSError:
        config_hash = "missing"
    identity = [
        settings.entry,
        str(settings.config_path),
        config_hash,
        settings.seed,
        names,
        settings.tolerance,
        plugin.probes.fail_portability,
        [rule.text for rule in settings.ignore],
    ]
    key = "vary-" + sha256_bytes(json.dumps(identity, default=str).encode())[:16]
    runs = plugin.runs()
    return runs.shared_cache().get(
        key,
        lambda folder: run_variations(
            request,
            names,
            folder,
            project_root=rootpath,
            cwd=Path.cwd(),
            tolerance=settings.tolerance,
            notify=lambda message: plugin.progress()("vary", message),
            fail_portability=plugin.probes.fail_portability,
            variables_read=variables_read,
            ignore=settings.ignore,
            scheduler=runs.scheduler,
        ),
        to_json=VariationReport.to_json,
        from_json=VariationReport.from_json,
        failure=VariationError,
        expected=(VariationError,),
    )


def _seed_line(config_path: Path) -> int:
    """The line of the config's top-level `seed:` key (1 when there is none)."""
    from pytest_repro.configs import MAX_CONFIG_BYTES
    from pytest_repro.regular_files import read_regular

    try:
        lines = read_regular(config_path, MAX_CONFIG_BYTES).decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((number for number, line in enumerate(lines, 1) if re.match(r"seed\s*:", line)), 1)
