"""Verifying a lineage against the files it names: the manifest on disk, or one a twin run returned."""

from __future__ import annotations

from pathlib import Path

from pytest_repro.checks.result import CheckContext, CheckResult
from pytest_repro.core.outcomes import Outcome


def verify_lineage(path: Path, project_root: Path | None = None) -> CheckResult:
    """`verified` (how many files, the signature), `mismatch` naming each file, or `invalid` in one line."""
    from pytest_repro.errors import ReproError
    from pytest_repro.lineage.checking import check

    try:
        report = check(path, write_reports=False, project_root=project_root)
    except ReproError as exc:
        return CheckResult(Outcome.INVALID, message=str(exc))
    properties = (("lineage_run_id", str(report.report.run_id)), ("lineage_signature", report.signature))
    if not report.passed:
        message = "\n".join(f.describe() for f in report.failures)
        return CheckResult(Outcome.MISMATCH, message=message, properties=properties)
    detail = f"{len(report.report.checks)} files, {report.signature}"
    return CheckResult(Outcome.VERIFIED, detail, properties=properties)


def check_lineage_file(context: CheckContext, subject: Path) -> CheckResult:
    """The lineage manifest in the project matches the files it names (no row: it is not a twin check)."""
    from dataclasses import replace

    from pytest_repro.core.paths import shown_path
    from pytest_repro.lineage.manifest import missing_lineage_message

    if not subject.exists():
        message = missing_lineage_message(shown_path(subject, context.rootpath))
        return CheckResult(Outcome.INVALID, message=message, row=False)
    return replace(verify_lineage(subject, project_root=context.rootpath), row=False)
