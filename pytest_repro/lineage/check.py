"""The reproducibility check: re-hash every file a lineage names and report, as the design describes.

`scripts/reproducibility_check.py` and the `repro-check` console script are thin
wrappers around `main`.  Verification itself is `pytest_repro.lineage.manifest.verify_lineage`,
run on the lineage bytes whose signature `pytest_repro.lineage.signing.verify_signature` checked
first, so no recorded hash is trusted before the signature is.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from pytest_repro.errors import ArtifactError, LineageError
from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.lineage.output_names import ENVIRONMENT_NAME, REPORT_NAME
from pytest_repro.lineage.publish import JOURNAL_NAME, output_lock, recover_interrupted_commit
from pytest_repro.lineage.signing import key_from_env, verify_signature
from pytest_repro.lineage.verify import FileCheck, VerificationReport, verify_lineage

__all__ = ["ENVIRONMENT_NAME", "REPORT_NAME", "CheckResult", "check", "check_environment"]


@dataclass(frozen=True)
class CheckResult:
    """A lineage's verification report and its signature status ("signed", "unsigned", "unverified")."""

    report: VerificationReport
    signature: str

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def failures(self) -> tuple[FileCheck, ...]:
        return self.report.failures

    def to_report(self) -> dict:
        """Return the design's report fields plus `signature`."""
        return {**self.report.to_report(), "signature": self.signature}


def check(
    lineage_path: Path,
    *,
    write_reports: bool = True,
    project_root: Path | None = None,
    signing_key: bytes | None = None,
    require_signature: bool = False,
) -> CheckResult:
    """Verify `lineage_path`'s signature, then its files, and write the report and environment files beside it.

    A commit that a killed training left half-applied is finished first, under the
    output folder's lock, so the check never races a training that is publishing.
    `signing_key` defaults to REPRO_SIGNING_KEY; a bad signature raises SignatureError.
    """
    folder = lineage_path.parent
    if (folder / JOURNAL_NAME).is_file():
        try:
            with output_lock(folder):
                try:
                    recover_interrupted_commit(folder)
                except ArtifactError as error:  # an unreadable journal, not a held lock: say so
                    raise LineageError(str(error)) from None
        except ArtifactError:
            raise LineageError(
                f"{folder}: a training is publishing artifacts; run the check when it ends"
            ) from None
    key = key_from_env() if signing_key is None else signing_key
    signature = verify_signature(lineage_path, key, require_signature)
    report = verify_lineage(lineage_path, project_root=project_root, data=signature.lineage_bytes)
    result = CheckResult(report, signature.status)
    if write_reports:
        write_json_atomic(lineage_path.parent / REPORT_NAME, result.to_report())
        write_json_atomic(lineage_path.parent / ENVIRONMENT_NAME, check_environment())
    return result


def check_environment() -> dict[str, str]:
    """Return the environment of the check itself (the design's fields)."""
    return {"python_version": sys.version, "platform": platform.platform(), "cwd": str(Path.cwd())}
