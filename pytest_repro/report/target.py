"""Where a report may go, and writing it: atomically, into an existing folder, never over an input.

A report is written at the end of a run that may have taken an hour, so its path is
checked when the run starts: the folder must exist, the path must not be a folder,
and it must not be one of the run's inputs (the training's config, the ini file, the
lineage manifest).  Nor may it replace any other existing file: only an earlier
report, recognised by the generator tag in its head, is overwritten.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

from pytest_repro.core.paths import shown_path
from pytest_repro.errors import ReproError
from pytest_repro.lineage.atomic import write_bytes_atomic

GENERATOR_TAG = '<meta name="generator" content="pytest-repro report">'
_HEAD_BYTES = 1024


class ReportPathError(ReproError):
    """The report cannot be written where it was asked to be (a usage error, exit 2)."""


def check_report_path(path: Path, source: str, inputs: Mapping[str, Path | None]) -> None:
    """Refuse a path the report must not be written to, naming `source` (`--repro-report`) and why."""
    shown = shown_path(path)
    if path.is_dir():
        raise ReportPathError(f"{source}: {shown} is a folder; expected a file such as {shown}/report.html")
    if not path.parent.is_dir():
        raise ReportPathError(
            f"{source}: the folder {shown_path(path.parent)} does not exist; create it or choose another path"
        )
    for what, input_path in inputs.items():
        if input_path is not None and _same_file(path, input_path):
            raise ReportPathError(
                f"{source}: {shown} is {what}; the report never overwrites it, choose another path"
            )
    if path.exists() and not is_report(path):
        raise ReportPathError(
            f"{source}: {shown} exists and is not a pytest-repro report; the report only replaces "
            "an earlier report (remove the file or choose another path)"
        )


def is_report(path: Path) -> bool:
    """Whether `path` holds a page this package wrote (its head carries the generator tag)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return False
    return GENERATOR_TAG.encode() in head


def write_report(path: Path, page: str) -> None:
    """Write `page` to `path` atomically: a reader sees the old report or the new one, never half."""
    write_bytes_atomic(path, page.encode("utf-8"))


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return a.samefile(b)
    return a.absolute() == b.absolute()
