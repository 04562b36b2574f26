"""What a check may ask of the session under pytest: its twins, narrowing, a seed's run, the variation hunt.

`SessionRuns` is the `pytest_repro.checks.result.CheckContext` the one item class
hands to a check.  Each run is shared through the session's caches, so xdist workers
train it once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.checks.result import CheckResult, CheckStopped
from pytest_repro.core.outcomes import Outcome


class SessionRuns:
    """The session's runs, as one check (`item`) may ask for them."""

    def __init__(self, item: pytest.Item, plugin: Any):
        self.item = item
        self.plugin = plugin
        self.settings = plugin.settings
        self.probes = plugin.probes
        self.rootpath: Path = item.config.rootpath
        self.report_wanted = plugin.report is not None

    def twins(self, seed: int | None = None) -> Any:
        """The twin runs; when they failed, fail once or say `not run`.

        One cause, one failure: the first check to meet a failed training (in collection
        order, across xdist workers) fails with the training's last output; every other
        check of the same twins is skipped as `not run: run-a failed`, naming that check.
        The session still fails, through that one check.
        """
        from pytest_repro.running.twins import TwinFailure, request_key

        settings, nodeid = self.settings, self.item.nodeid
        try:
            return self.plugin.twins(settings, seed=seed)
        except TwinFailure as exc:
            message = str(exc)
            key = request_key(settings.request(seed), settings.isolation)
            owner = self.plugin.runs().shared_cache().claim(f"{key}.failure", nodeid)
            label = failed_label(message)
            if owner == nodeid:
                failed = CheckResult(Outcome.FAILED, _cause(message), f"the twin runs failed:\n{message}")
                raise CheckStopped(failed) from None
            reason = f"not run: {label} failed; its failure and last output are reported by {owner}"
            raise CheckStopped(CheckResult(Outcome.NOT_RUN, f"{label} failed", reason)) from None

    def narrowed_cause(self, twins: Any) -> str | None:
        """What narrowing found: once per session and twins, shared by every failing check and xdist worker."""
        from pytest_repro.core.entry_points import ContractError
        from pytest_repro.running.launcher import TrainingFailed
        from pytest_repro.running.narrowing import Narrowing, narrow_twins
        from pytest_repro.running.twins import TwinFailure, request_key

        request = self.settings.request()
        key = "narrow-" + request_key(request, self.settings.isolation)
        runs = self.plugin.runs()
        try:
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

    def train_seed(self, seed: int, like: Any) -> Any:
        """One run with `seed`, in `like`'s isolation and thread count (queued behind the twins)."""
        settings = self.settings
        return self.plugin.runs().probe_run(seed, settings.request(seed), like, settings.isolation)

    def variation_report(self, names: Sequence[str], variables_read: tuple[str, ...] | None) -> Any:
        return shared_variation_report(
            self.plugin, self.settings, tuple(names), self.rootpath, variables_read
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
