"""Compare two runs check by check; the one comparison every item, fixture and helper shares.

An artifact is diagnosed by what its files hold (content_kind.py), never by its
name: a pickle is walked as a model, a LightGBM/XGBoost/CatBoost model file tree by
tree, a tensor archive tensor by tensor, JSON leaf by leaf, a number as a number, and
anything else as bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_repro.diagnose.bytes_diff import diff_bytes, same_bytes
from pytest_repro.diagnose.content_kind import ArtifactKind, artifact_kind
from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.folds_diff import diff_folds
from pytest_repro.diagnose.json_diff import diff_json_files, diff_metrics
from pytest_repro.diagnose.model_files import diff_model_files
from pytest_repro.diagnose.number_diff import diff_number_files
from pytest_repro.diagnose.tensor_files import diff_tensor_files
from pytest_repro.diagnose.tree_model_files import diff_tree_model_files

if TYPE_CHECKING:
    from pytest_repro.core.run_records import RunRecord
    from pytest_repro.diagnose.declared import Volatility


class MissingArtifact(Exception):
    """A run did not return an artifact that a check asks for."""


def compare_artifact(
    name: str,
    a: RunRecord,
    b: RunRecord,
    *,
    import_paths: Sequence[Path] = (),
    volatility: Volatility | None = None,
) -> Difference | None:
    """Compare one artifact's bytes; on a mismatch explain it by what the files hold.

    `import_paths` (the pytest rootdir, say) are made importable, after the working
    directory, while a model is loaded for its diagnosis.  `volatility` (`repro_ignore`)
    sets aside what may differ by design, and notes what it set aside.
    """
    for run in (a, b):
        if name not in run.artifacts:
            returned = ", ".join(sorted(run.artifacts)) or "none"
            raise MissingArtifact(
                f"{run.label} returned no artifact named {name!r} (it returned: {returned})"
            )
    path_a, path_b = a.artifacts[name], b.artifacts[name]
    if volatility:
        declared = _declared_difference(name, path_a, path_b, volatility)
        if declared is not False:
            return declared  # type: ignore[return-value]
    # Each run hashed its artifacts once, when it ended: equal digests need no second read,
    # and only files whose bytes differ are loaded and walked.
    if a.hashes.get(name) is not None and a.hashes.get(name) == b.hashes.get(name):
        return None
    if same_bytes(path_a, path_b):
        return None
    kind = artifact_kind(path_a, path_b)
    if kind is ArtifactKind.MODEL:
        return diff_model_files(path_a, path_b, name=name, import_paths=import_paths)
    if kind is ArtifactKind.TREES:
        return diff_tree_model_files(path_a, path_b, name=name)
    if kind is ArtifactKind.TENSORS:
        return diff_tensor_files(path_a, path_b, name=name)
    if kind is ArtifactKind.JSON:
        return diff_json_files(name, path_a, path_b)
    if kind is ArtifactKind.NUMBER:
        return diff_number_files(name, path_a, path_b)
    return diff_bytes(name, path_a, path_b)


def _declared_difference(
    name: str, path_a: Path, path_b: Path, volatility: Volatility
) -> Difference | bool | None:
    """The difference left once declared volatility is set aside; False when no rule speaks of this output."""
    if volatility.whole(name):
        if not same_bytes(path_a, path_b):
            volatility.note_whole(name)
        return None
    return volatility.compare_documents(name, path_a, path_b)


def compare_folds(a: RunRecord, b: RunRecord) -> Difference | None:
    """Compare the CV folds (test row numbers per fold), or their SHA-256 when a recorded run knows only that."""
    if a.folds is not None and b.folds is not None:
        return diff_folds(a.folds, b.folds)
    digests = [_folds_sha256(run) for run in (a, b)]
    if None in digests:
        raise MissingArtifact("the entry point returned no 'folds'")
    if digests[0] == digests[1]:
        return None
    shown = [
        f"{run.label}'s folds have SHA-256 {digest[:12]}" for run, digest in zip((a, b), digests, strict=True)
    ]
    return Difference(
        "folds",
        f"folds differ: {shown[0]}, {shown[1]}",
        ("a lineage records the folds' SHA-256, not their rows, so which rows moved cannot be shown",),
    )


def _folds_sha256(run: RunRecord) -> str | None:
    """The SHA-256 a lineage records for the run's folds (`folds_record`), or None when it has none."""
    if run.folds is None:
        return run.folds_sha256
    from pytest_repro.lineage.writing import folds_record

    return folds_record(run.folds)["sha256"]  # type: ignore[index]


def compare_metrics(
    a: RunRecord, b: RunRecord, tolerance: float = 0.0, volatility: Volatility | None = None
) -> Difference | None:
    """Compare the returned metrics leaf by leaf, within an absolute tolerance (None: unknown, not compared).

    Values that `repro_ignore` pointer rules declare volatile in the metrics (by the
    metrics' name: the command's `repro_metrics` file, or `metrics`) are set aside, and noted.
    """
    if a.metrics is None or b.metrics is None:
        return None
    metrics_a, metrics_b = a.metrics, b.metrics
    if volatility:
        metrics_a, metrics_b = volatility.masked(volatility.metrics_name, metrics_a, metrics_b)
    return diff_metrics(metrics_a, metrics_b, tolerance=tolerance)


def compare_every_artifact(
    a: RunRecord, b: RunRecord, *, import_paths: Sequence[Path] = (), volatility: Volatility | None = None
) -> Difference | None:
    """Compare every artifact either run returned, as one check: which differ, each one's diagnosis below."""
    names = sorted(set(a.artifacts) | set(b.artifacts))
    differences = _artifact_differences(names, a, b, import_paths, volatility)
    if not differences:
        return None
    details = [line for d in differences for line in (d.summary, *(f"  {detail}" for detail in d.details))]
    differing = ", ".join(d.subject for d in differences)
    summary = f"{len(differences)} of {len(names)} artifacts differ: {differing}"
    return Difference("artifacts", summary, tuple(details))


def compare_runs(
    a: RunRecord,
    b: RunRecord,
    tolerance: float = 0.0,
    *,
    import_paths: Sequence[Path] = (),
    volatility: Volatility | None = None,
) -> list[Difference]:
    """Every difference between two runs: each artifact, the folds, the metrics (less declared volatility)."""
    if volatility:
        from pytest_repro.diagnose.declared import IgnoreError

        try:
            a, b = volatility.pair(a, b)
        except IgnoreError as exc:
            return [Difference("repro_ignore", str(exc))]
    names = sorted(set(a.artifacts) | set(b.artifacts))
    differences = _artifact_differences(names, a, b, import_paths, volatility)
    if a.folds is not None or b.folds is not None:
        try:
            folds = compare_folds(a, b)
        except MissingArtifact as exc:
            folds = Difference("folds", str(exc))
        if folds is not None:
            differences.append(folds)
    metrics = compare_metrics(a, b, tolerance, volatility)
    if metrics is not None:
        differences.append(metrics)
    return differences


def _artifact_differences(
    names: Sequence[str],
    a: RunRecord,
    b: RunRecord,
    import_paths: Sequence[Path],
    volatility: Volatility | None = None,
) -> list[Difference]:
    """Diagnose each named artifact; one a run did not return, or a declaration cannot apply to, says so."""
    from pytest_repro.diagnose.declared import IgnoreError

    differences = []
    for name in names:
        try:
            difference = compare_artifact(name, a, b, import_paths=import_paths, volatility=volatility)
        except (MissingArtifact, IgnoreError) as exc:
            difference = Difference(name, str(exc))
        if difference is not None:
            differences.append(difference)
    return differences


def assert_runs_identical(
    a: RunRecord, b: RunRecord, tolerance: float = 0.0, *, import_paths: Sequence[Path] = ()
) -> None:
    """Raise AssertionError describing every difference between two runs, if there is any."""
    differences = compare_runs(a, b, tolerance, import_paths=import_paths)
    if differences:
        text = "\n".join(d.render() for d in differences)
        raise AssertionError(f"runs {a.label} and {b.label} differ:\n{text}")
