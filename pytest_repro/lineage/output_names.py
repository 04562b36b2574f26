"""Which file names a run may publish into its output folder: the one rule, checked before any work.

A run's outputs and its lineage are renamed into one folder, so a name that is not a
plain file name (`.`, `..`, a path), that two outputs share, that the publishing
machinery itself uses (the commit journal, the lock, the envelope, the check's
reports, a staging file), or that resolves to one of the run's own inputs would
overwrite something or brick the folder.  `check_output_names` refuses all of them at
once, as a set, so a training can call it before it reads any data; `Publication`
applies the same rule to every name staged, so no caller can skip it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pytest_repro.core.paths import shown_path
from pytest_repro.errors import ArtifactError
from pytest_repro.lineage.signing import ENVELOPE_SUFFIX

# The publishing machinery's own files (pytest_repro.lineage.publish imports them from here).
JOURNAL_NAME = ".commit.json"
LOCK_NAME = ".training.lock"
STAGED_SUFFIX = ".staged"
# Written beside the lineage by every check run (pytest_repro.lineage.checking imports them from here).
REPORT_NAME = "reproducibility_report.json"
ENVIRONMENT_NAME = "reproducibility_environment.json"
RESERVED_NAMES = frozenset({JOURNAL_NAME, LOCK_NAME, REPORT_NAME, ENVIRONMENT_NAME})
LINEAGE_ENTRY = "lineage"


class OutputNameError(ArtifactError):
    """An output's file name is refused; `entry` is the output it was given for (or "lineage")."""

    def __init__(self, entry: str, file_name: str, reason: str):
        self.entry, self.file_name, self.reason = entry, file_name, reason
        super().__init__(f"output {entry!r}: file name {file_name!r} {reason}")


def name_problem(file_name: str) -> str | None:
    """Return why `file_name` alone cannot be an output's name, or None when it can."""
    if not isinstance(file_name, str) or not file_name:
        return "is not a file name"
    if file_name in (".", "..") or "/" in file_name or "\\" in file_name or "\x00" in file_name:
        return "is not a plain file name (no folders, not '.' or '..')"
    if file_name in RESERVED_NAMES:
        return "is reserved: pytest-repro writes a file of that name in the output folder"
    if file_name.startswith(".") and file_name.endswith(STAGED_SUFFIX):
        return f"is reserved: names '.*{STAGED_SUFFIX}' are staging files, removed by the next run"
    return None


def check_output_names(
    folder: str | os.PathLike[str],
    outputs: Mapping[str, str],
    *,
    lineage_file: str,
    inputs: Mapping[str, str | os.PathLike[str]] | None = None,
) -> None:
    """Refuse, with OutputNameError, the first output name of a run that could overwrite anything.

    `outputs` maps each output's entry name to its file name in `folder`; the lineage
    (and its signature envelope) are named `lineage_file`; `inputs` are the files the
    run reads (config, dataset, pins), none of which an output may resolve to.
    """
    named = {**outputs, LINEAGE_ENTRY: lineage_file}
    for entry, file_name in named.items():
        problem = name_problem(file_name)
        if problem is not None:
            raise OutputNameError(entry, file_name, problem)
    envelope = lineage_file + ENVELOPE_SUFFIX
    taken: dict[str, str] = {envelope.casefold(): "the lineage's signature envelope"}
    for entry, file_name in named.items():
        other = taken.get(file_name.casefold())
        if other is not None:
            raise OutputNameError(entry, file_name, f"is also the name of {other}; names must be distinct")
        taken[file_name.casefold()] = f"output {entry!r}"
    base = Path(folder).absolute()
    for entry, file_name in {**named, LINEAGE_ENTRY + " envelope": envelope}.items():
        target = base / file_name
        for input_name, input_path in (inputs or {}).items():
            if _same_file(target, Path(input_path)):
                raise OutputNameError(
                    entry.removesuffix(" envelope"),
                    file_name,
                    f"would overwrite the run's input {input_name!r} ({shown_path(input_path)})",
                )


def _same_file(target: Path, source: Path) -> bool:
    """True when publishing `target` would replace `source`: the same path once links are followed.

    A hard link needs no case: the rename replaces the folder entry, not the file behind it.
    """
    return target.resolve() == source.resolve()
