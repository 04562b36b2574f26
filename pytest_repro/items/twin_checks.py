"""Generated test items: one per check of the configured training, so a user writes no test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.lineage.manifest import missing_lineage_message
from pytest_repro.settings import ReproSettings

SUMMARY_PROPERTY = "repro_summary"


class ReproMismatch(Exception):
    """The twin runs disagree on one check; carries the rendered diagnosis."""


class ReproCheckError(Exception):
    """A check could not run (training failed, contract broken, manifest missing)."""


class ReproConfigFile(pytest.File):
    """The training config, as the parent of the generated twin-run checks."""

    settings: ReproSettings

    def collect(self) -> Iterator[pytest.Item]:
        for name in self.settings.artifacts:
            yield TwinCheck.from_parent(self, name=f"artifact[{name}]", kind="artifact", subject=name)
        yield TwinCheck.from_parent(self, name="folds", kind="folds", subject="folds")
        yield TwinCheck.from_parent(self, name="metrics", kind="metrics", subject="metrics")
        for label in ("run-a", "run-b"):
            yield TwinCheck.from_parent(self, name=f"lineage[{label}]", kind="lineage", subject=label)
        yield TwinCheck.from_parent(self, name="replay", kind="replay", subject="recorded lineage")
        from pytest_repro.items.probes import probe_items

        yield from probe_items(self)


class TwinCheck(pytest.Item):
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
        from pytest_repro.running.twins import TwinFailure

        plugin = self.config.stash[PLUGIN_KEY]
        settings: ReproSettings = self.parent.settings  # type: ignore[attr-defined]
        try:
            twins = plugin.twins(settings)
        except TwinFailure as exc:
            raise ReproCheckError(f"the twin runs failed:\n{exc}") from None
        a, b = twins.a, twins.b
        self.user_properties.append(("repro_twin_seconds", f"{twins.seconds:.1f}"))
        if self.kind == "lineage":
            self._check_lineage(a if self.subject == "run-a" else b)
            return
        if self.kind == "replay":
            self._replay(a, settings)
            return
        try:
            if self.kind == "artifact":
                self._record(a.hashes.get(self.subject), b.hashes.get(self.subject))
                difference = compare_artifact(self.subject, a, b)
            elif self.kind == "folds":
                self._record(
                    _fold_digest(a.folds), _fold_digest(b.folds), detail=f"{len(a.folds or [])} folds"
                )
                difference = compare_folds(a, b)
            else:
                self._record(_metrics_digest(a.metrics), _metrics_digest(b.metrics))
                difference = compare_metrics(a, b, settings.tolerance)
        except MissingArtifact as exc:
            raise ReproCheckError(str(exc)) from None
        if difference is not None:
            self._summary("differ")
            raise ReproMismatch(difference.render())
        self._summary("identical" if self.kind != "metrics" else "equal")

    def _check_lineage(self, run: Any) -> None:
        from pytest_repro.errors import ReproError
        from pytest_repro.lineage.check import check

        if run.lineage is None:
            self._summary("no lineage")
            pytest.skip("the entry point returned no lineage")
        try:
            report = check(run.lineage, write_reports=False)
        except ReproError as exc:
            self._summary("invalid")
            raise ReproCheckError(str(exc)) from None
        self.user_properties.append(("lineage_run_id", str(report.report.run_id)))
        self.user_properties.append(("lineage_signature", report.signature))
        if not report.passed:
            self._summary("mismatch")
            raise ReproMismatch("\n".join(f.describe() for f in report.failures))
        self._summary(f"verified ({len(report.report.checks)} files, {report.signature})")

    def _replay(self, run: Any, settings: ReproSettings) -> None:
        """Check a fresh run against a lineage recorded earlier (restored from CI's archive, say)."""
        from pytest_repro.diagnose.replay import ReplaySkipped, replay_recorded

        try:
            outcome = replay_recorded(settings.lineage_path, run)
        except ReplaySkipped as exc:
            self._summary(f"skipped: {exc}")
            pytest.skip(str(exc))
        self._hashes = (outcome.recorded_model[:12], outcome.fresh_model[:12], "recorded vs fresh model")
        self.user_properties.append(("sha256_recorded_model", outcome.recorded_model))
        self.user_properties.append(("sha256_fresh_model", outcome.fresh_model))
        if outcome.mismatches:
            self._summary("differ")
            raise ReproMismatch(outcome.render())
        self._summary("reproduced")

    def _record(self, hash_a: str | None, hash_b: str | None, detail: str = "") -> None:
        self.user_properties.append(("sha256_run_a", hash_a or ""))
        self.user_properties.append(("sha256_run_b", hash_b or ""))
        self._hashes = (hash_a or "", hash_b or "", detail)

    def _summary(self, outcome: str) -> None:
        hash_a, hash_b, detail = getattr(self, "_hashes", ("", "", ""))
        row = {"check": self.name, "a": hash_a[:12], "b": hash_b[:12], "outcome": outcome, "detail": detail}
        self.user_properties.append((SUMMARY_PROPERTY, json.dumps(row, sort_keys=True)))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ReproMismatch | ReproCheckError):
            return str(excinfo.value)
        if isinstance(excinfo.value, pytest.skip.Exception):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"repro {self.name}"


class LineageManifest(pytest.File):
    """The on-disk lineage manifest, as the parent of its verification item."""

    def collect(self) -> Iterator[pytest.Item]:
        item = LineageCheck.from_parent(self, name="verify")
        if not self.path.exists() and not _lineage_explicitly_selected(self.config):
            message = missing_lineage_message(item._shown_path())
            item.add_marker(pytest.mark.skip(reason=f"{message} (pytest -m lineage fails instead)"))
        yield item


class LineageCheck(pytest.Item):
    """Verify the on-disk manifest against the files it names, with the training's verifier."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.add_marker("lineage")

    def runtest(self) -> None:
        from pytest_repro.errors import ReproError
        from pytest_repro.lineage.check import check

        if not self.path.exists():
            raise ReproCheckError(missing_lineage_message(self._shown_path()))
        try:
            report = check(self.path, write_reports=False, project_root=self.config.rootpath)
        except ReproError as exc:
            raise ReproCheckError(str(exc)) from None
        self.user_properties.append(("lineage_run_id", str(report.report.run_id)))
        self.user_properties.append(("lineage_signature", report.signature))
        if not report.passed:
            raise ReproMismatch("\n".join(f.describe() for f in report.failures))

    def _shown_path(self) -> str:
        try:
            return self.path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return str(self.path)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ReproMismatch | ReproCheckError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, "lineage verify"


def _lineage_explicitly_selected(config: pytest.Config) -> bool:
    return "lineage" in (config.getoption("markexpr", "") or "")


def _fold_digest(folds: list[list[int]] | None) -> str:
    from pytest_repro.lineage.hashing import sha256_bytes

    return sha256_bytes(json.dumps(folds).encode()) if folds is not None else ""


def _metrics_digest(metrics: dict[str, Any]) -> str:
    from pytest_repro.lineage.atomic import canonical_json
    from pytest_repro.lineage.hashing import sha256_bytes

    return sha256_bytes(canonical_json(metrics))


PLUGIN_KEY: pytest.StashKey[Any] = pytest.StashKey()
