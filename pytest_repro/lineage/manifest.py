"""Lineage manifests: build, read safely, and verify against the files on disk.

This module is the single verifier: the check script, the pytest plugin and the
pre-commit hook all call `verify_lineage`.  Paths in a manifest are POSIX paths
relative to the project root, and the root itself is stored relative to the manifest's
folder (normally ".."), so a manifest holds no absolute path and still works after
the project is moved or cloned elsewhere.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_repro.errors import LineageError
from pytest_repro.lineage.hashing import sha256_file

SCHEMA_VERSION = 1
DEFAULT_LINEAGE = Path("artifacts/lineage.json")
REQUIRED_FILE_ENTRIES = ("dataset", "config", "model", "threshold")
OPTIONAL_FILE_ENTRIES = ("metrics", "drift_baseline")
FILE_ENTRIES = REQUIRED_FILE_ENTRIES + OPTIONAL_FILE_ENTRIES
_RUN_NAMESPACE = uuid.UUID("0b9b5c1e-6a51-4d5e-9a55-6f0d3c2b7a10")
MAX_LINEAGE_BYTES = 10_000_000


def missing_lineage_message(path: Path | str) -> str:
    """Return the design's message for a manifest that does not exist yet."""
    return f"Missing {Path(path).as_posix()}. Run training first."


def project_root_for(config_dir: Path, output_dir: Path) -> Path:
    """Return the folder that holds both the inputs and the outputs of a run."""
    return Path(os.path.commonpath([config_dir.resolve(), output_dir.resolve()]))


def relative_posix(path: Path, start: Path) -> str:
    """Return `path` relative to `start` as a POSIX string (both resolved first)."""
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def build_lineage(
    *,
    lineage_path: Path,
    root: Path,
    files: Mapping[str, Path],
    hashes: Mapping[str, str],
    seed: int,
    folds_sha256: str,
    n_splits: int,
    environment: Mapping[str, Any],
    code: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Assemble a manifest; `files` maps entry names to paths, `hashes` their SHA-256.

    run_id is a UUID derived from the input and output hashes: two runs that produced
    the same bytes from the same inputs share it, and no randomness enters the file.
    """
    entries = {name: {"path": relative_posix(files[name], root), "sha256": hashes[name]} for name in files}
    identity = "\n".join(f"{name}={entries[name]['sha256']}" for name in sorted(entries))
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": str(uuid.uuid5(_RUN_NAMESPACE, f"{identity}\nseed={seed}")),
        "root": relative_posix(root, lineage_path.parent),
        "seed": seed,
        **entries,
        "cv_folds": {"n_splits": n_splits, "sha256": folds_sha256},
        "environment": dict(environment),
        "code": dict(code) if code is not None else None,
    }


def read_lineage(path: str | Path) -> dict[str, Any]:
    """Read and structurally validate a manifest; every problem is a one-line LineageError."""
    path = Path(path)
    return parse_lineage(read_lineage_bytes(path), path)


def read_lineage_bytes(path: str | Path) -> bytes:
    """Return a manifest's bytes, read once; a missing, unreadable or oversized file is a LineageError."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LINEAGE_BYTES + 1)
    except FileNotFoundError:
        raise LineageError(missing_lineage_message(path)) from None
    except IsADirectoryError:
        raise LineageError(f"{path}: is a folder, expected a lineage JSON file") from None
    except PermissionError:
        raise LineageError(f"{path}: permission denied reading the lineage") from None
    except OSError as exc:
        raise LineageError(f"{path}: cannot read the lineage ({exc.strerror})") from None
    if len(data) > MAX_LINEAGE_BYTES:
        raise LineageError(f"{path}: larger than {MAX_LINEAGE_BYTES} bytes; not a lineage file")
    return data


def parse_lineage(data: bytes, path: str | Path) -> dict[str, Any]:
    """Parse and structurally validate manifest bytes already read (e.g. the bytes a signature covers)."""
    path = Path(path)
    try:
        lineage = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise LineageError(f"{path}: malformed lineage JSON{where}") from None
    except RecursionError:
        raise LineageError(f"{path}: malformed lineage JSON: nested too deeply") from None
    _validate_structure(lineage, path)
    return lineage


def _validate_structure(lineage: Any, path: Path) -> None:
    if not isinstance(lineage, dict):
        raise LineageError(f"{path}: top level must be a JSON object, got {type(lineage).__name__}")
    for name in REQUIRED_FILE_ENTRIES:
        if name not in lineage:
            raise LineageError(f"{path}: {name}: missing required entry")
    for name in FILE_ENTRIES:
        if name not in lineage:
            continue
        entry = lineage[name]
        if not isinstance(entry, dict):
            raise LineageError(f"{path}: {name}: expected an object with path and sha256")
        for field in ("path", "sha256"):
            if not isinstance(entry.get(field), str) or not entry[field]:
                raise LineageError(f"{path}: {name}.{field}: expected a non-empty string")
        digest = entry["sha256"]
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise LineageError(f"{path}: {name}.sha256: not a lowercase hex SHA-256: {digest[:70]!r}")
    root = lineage.get("root", ".")
    if not isinstance(root, str):
        raise LineageError(f"{path}: root: expected a relative path string")
    if "run_id" in lineage and not isinstance(lineage["run_id"], str | type(None)):
        raise LineageError(f"{path}: run_id: expected a string")


def lineage_root(lineage: Mapping[str, Any], lineage_path: Path, project_root: Path | None = None) -> Path:
    """Return the project root a manifest's paths are relative to.

    The manifest's own `root` is not trusted to widen what may be read: when the caller
    knows the project root (the check passes the working directory), the manifest's
    root must resolve inside it.
    """
    root = lineage.get("root", ".")
    if PurePosixPath(root).is_absolute() or Path(root).is_absolute():
        raise LineageError(f"{lineage_path}: root: must be a relative path, got {root!r}")
    if "\x00" in root:  # resolve() would raise ValueError
        raise LineageError(f"{lineage_path}: root: contains a NUL byte")
    resolved = (lineage_path.parent / root).resolve()
    if project_root is not None and not resolved.is_relative_to(project_root.resolve()):
        raise LineageError(f"{lineage_path}: root: {root!r} resolves outside the project root {project_root}")
    return resolved


def resolve_entry(root: Path, relative: str, *, name: str, lineage_path: Path) -> Path:
    """Resolve an entry's path inside `root`; absolute paths, '..' escapes and symlinks out are errors."""
    where = f"{lineage_path}: {name}.path"
    if (
        relative.startswith(("/", "\\"))
        or PurePosixPath(relative).is_absolute()
        or Path(relative).is_absolute()
    ):
        raise LineageError(f"{where}: absolute paths are not allowed: {relative!r}")
    if "\x00" in relative:
        raise LineageError(f"{where}: contains a NUL byte")
    candidate = root / relative
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        kind = (
            "symbolic link points"
            if candidate.is_symlink() or _has_symlink(root, relative)
            else "path escapes"
        )
        raise LineageError(f"{where}: {kind} outside the project root: {relative!r}")
    return resolved


def _has_symlink(root: Path, relative: str) -> bool:
    current = root
    for part in PurePosixPath(relative).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


@dataclass(frozen=True)
class FileCheck:
    """The outcome of re-hashing one file a manifest names."""

    name: str
    path: str
    expected: str
    actual: str | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.actual == self.expected

    def describe(self) -> str:
        """Say in one line what failed, naming the file."""
        if self.error:
            return f"{self.name}: {self.path}: {self.error}"
        return f"{self.name}: {self.path}: SHA-256 is {self.actual} but the lineage records {self.expected}"

    def to_report(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "path": self.path,
            "expected": self.expected,
            "actual": self.actual,
            "passed": self.passed,
        }
        if self.error:
            report["error"] = self.error
        return report


@dataclass(frozen=True)
class VerificationReport:
    """Every file check of one manifest; `passed` only when all of them pass."""

    run_id: str | None
    lineage_path: str
    checks: tuple[FileCheck, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> tuple[FileCheck, ...]:
        return tuple(check for check in self.checks if not check.passed)

    def to_report(self) -> dict[str, Any]:
        """Return the design's report shape: run_id, checks by name, passed."""
        return {
            "run_id": self.run_id,
            "checks": {check.name: check.to_report() for check in self.checks},
            "passed": self.passed,
        }


def verify_lineage(
    lineage_path: str | Path, *, project_root: Path | None = None, data: bytes | None = None
) -> VerificationReport:
    """Re-hash every file the manifest names and compare with the recorded SHA-256.

    A missing or unreadable file is a failed check, not an exception; a malformed
    or unsafe manifest raises LineageError.  With `project_root`, every path must
    stay inside it, whatever the manifest's `root` says.  `data` is the manifest's
    bytes when the caller has already read (and signature-checked) them, so the
    manifest verified is the one whose signature was checked, not a second read.
    """
    lineage_path = Path(lineage_path)
    lineage = read_lineage(lineage_path) if data is None else parse_lineage(data, lineage_path)
    root = lineage_root(lineage, lineage_path, project_root)
    checks = []
    for name in FILE_ENTRIES:
        if name not in lineage:
            continue
        entry = lineage[name]
        resolved = resolve_entry(root, entry["path"], name=name, lineage_path=lineage_path)
        checks.append(_check_file(name, entry["path"], resolved, entry["sha256"]))
    return VerificationReport(lineage.get("run_id"), lineage_path.as_posix(), tuple(checks))


def _check_file(name: str, shown: str, path: Path, expected: str) -> FileCheck:
    try:
        if path.is_dir():
            return FileCheck(name, shown, expected, None, "is a folder, not a file")
        actual = sha256_file(path)
    except FileNotFoundError:
        return FileCheck(name, shown, expected, None, "file not found")
    except PermissionError:
        return FileCheck(name, shown, expected, None, "permission denied")
    except OSError as exc:
        return FileCheck(name, shown, expected, None, f"cannot read ({exc.strerror})")
    return FileCheck(name, shown, expected, actual)
