"""The reproducibility check: re-hash every file a lineage names and report, as the design describes.

`scripts/reproducibility_check.py` and the `repro-check` console script are thin
wrappers around `main`.  Verification itself is `pytest_repro.lineage.manifest.verify_lineage`,
run on the lineage bytes whose signature `pytest_repro.lineage.signing.verify_signature` checked
first, so no recorded hash is trusted before the signature is.
"""

from __future__ import annotations

import contextlib
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pytest_repro.errors import ArtifactError, LineageError
from pytest_repro.lineage.atomic import write_json_atomic
from pytest_repro.lineage.output_names import ENVIRONMENT_NAME, REPORT_NAME
from pytest_repro.lineage.publish import (
    JOURNAL_NAME,
    LOCK_NAME,
    JournalError,
    journal_pending,
    output_lock,
    read_journal,
)
from pytest_repro.lineage.signing import Keys, key_from_env, verify_signature
from pytest_repro.lineage.verify import FileCheck, VerificationReport, verify_lineage

__all__ = ["ENVIRONMENT_NAME", "REPORT_NAME", "CheckResult", "check", "check_environment"]


@dataclass(frozen=True)
class CheckResult:
    """A lineage's verification report, its signature status ("signed", "unsigned", "unverified").

    `lineage_bytes` are the manifest's bytes that were verified: a caller that goes on to
    use the lineage parses these, never a second read of a file that may have changed.
    """

    report: VerificationReport
    signature: str
    lineage_bytes: bytes = field(default=b"", repr=False, compare=False)

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
    signing_key: Keys | None = None,
    require_signature: bool = False,
) -> CheckResult:
    """Verify `lineage_path`'s signature, then its files, and write the report and environment files beside it.

    A check only reads: a commit that a killed training left half-applied is reported
    (exit 1, with what finishes it) and nothing is renamed; training and `load_model`
    are the ones that roll it forward.
    `signing_key` defaults to the environment's keys (REPRO_SIGNING_KEY, REPRO_PRIVATE_KEY,
    REPRO_PUBLIC_KEY); a bad signature raises SignatureError.
    """
    refuse_pending_commit(lineage_path.parent)
    key = key_from_env() if signing_key is None else signing_key
    signature = verify_signature(lineage_path, key, require_signature)
    report = verify_lineage(lineage_path, project_root=project_root, data=signature.lineage_bytes)
    result = CheckResult(report, signature.status, signature.lineage_bytes)
    if write_reports:
        write_json_atomic(lineage_path.parent / REPORT_NAME, result.to_report())
        write_json_atomic(lineage_path.parent / ENVIRONMENT_NAME, check_environment())
    return result


def refuse_pending_commit(folder: Path) -> None:
    """Raise LineageError when `folder` holds a commit journal: its files are mid-publication.

    The journal is validated (so a crafted one is named as such) but never applied:
    renaming is a write, and a verifier that writes can be made to move files.
    """
    if not journal_pending(folder):
        return
    try:
        # A training that wrote a journal created the lock file; without one, none is publishing,
        # and the check creates nothing.
        with output_lock(folder) if (folder / LOCK_NAME).exists() else contextlib.nullcontext():
            pending = read_journal(folder)
    except JournalError as error:
        raise LineageError(str(error)) from None
    except ArtifactError:
        raise LineageError(
            f"{folder}: a training is publishing artifacts; run the check when it ends"
        ) from None
    names = ", ".join(final for _, final in pending)
    raise LineageError(
        f"{folder / JOURNAL_NAME}: an interrupted commit is pending ({names}); the check renames "
        "nothing: train again, or load the model with load_model, to finish it"
    )


def check_environment() -> dict[str, str]:
    """Return the environment of the check itself (the design's fields)."""
    return {"python_version": sys.version, "platform": platform.platform(), "cwd": str(Path.cwd())}
