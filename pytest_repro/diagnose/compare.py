"""Compare two runs check by check; the one comparison every item, fixture and helper shares."""

from __future__ import annotations

from pytest_repro.diagnose.diagnostics import (
    Difference,
    diff_bytes,
    diff_folds,
    diff_json_files,
    diff_metrics,
    diff_model_files,
    diff_threshold,
)
from pytest_repro.running.launcher import RunRecord


class MissingArtifact(Exception):
    """A run did not return an artifact that a check asks for."""


def compare_artifact(name: str, a: RunRecord, b: RunRecord) -> Difference | None:
    """Compare one artifact's bytes; on a mismatch explain it by the artifact's kind."""
    for run in (a, b):
        if name not in run.artifacts:
            returned = ", ".join(sorted(run.artifacts)) or "none"
            raise MissingArtifact(
                f"{run.label} returned no artifact named {name!r} (it returned: {returned})"
            )
    path_a, path_b = a.artifacts[name], b.artifacts[name]
    if name == "model":
        return diff_model_files(path_a, path_b)
    if path_a.suffix == ".json":
        return diff_json_files(name, path_a, path_b)
    if name == "threshold":
        difference = diff_bytes(name, path_a, path_b)
        if difference is None:
            return None
        values = diff_threshold(path_a.read_text(errors="replace"), path_b.read_text(errors="replace"))
        details = (values.summary, *values.details) if values else ()
        return Difference(name, difference.summary, details + difference.details)
    return diff_bytes(name, path_a, path_b)


def compare_folds(a: RunRecord, b: RunRecord) -> Difference | None:
    """Compare the CV folds (test row numbers per fold)."""
    if a.folds is None or b.folds is None:
        raise MissingArtifact("the entry point returned no 'folds'")
    return diff_folds(a.folds, b.folds)


def compare_metrics(a: RunRecord, b: RunRecord, tolerance: float = 0.0) -> Difference | None:
    """Compare the returned metrics leaf by leaf, within an absolute tolerance."""
    return diff_metrics(a.metrics, b.metrics, tolerance=tolerance)


def compare_runs(a: RunRecord, b: RunRecord, tolerance: float = 0.0) -> list[Difference]:
    """Every difference between two runs: each artifact, the folds, the metrics."""
    differences = []
    for name in sorted(set(a.artifacts) | set(b.artifacts)):
        try:
            difference = compare_artifact(name, a, b)
        except MissingArtifact as exc:
            difference = Difference(name, str(exc))
        if difference is not None:
            differences.append(difference)
    if a.folds is not None or b.folds is not None:
        try:
            folds = compare_folds(a, b)
        except MissingArtifact as exc:
            folds = Difference("folds", str(exc))
        if folds is not None:
            differences.append(folds)
    metrics = compare_metrics(a, b, tolerance)
    if metrics is not None:
        differences.append(metrics)
    return differences


def assert_runs_identical(a: RunRecord, b: RunRecord, tolerance: float = 0.0) -> None:
    """Raise AssertionError describing every difference between two runs, if there is any."""
    differences = compare_runs(a, b, tolerance)
    if differences:
        text = "\n".join(d.render() for d in differences)
        raise AssertionError(f"runs {a.label} and {b.label} differ:\n{text}")
