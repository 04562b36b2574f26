"""The single verifier of lineage manifests: re-hash every file a manifest names, confined to the project.

The check script, the pytest plugin's lineage items, the pre-commit hook, the exports
and `load_model` all verify through here, so a manifest's paths are confined the same
way everywhere: relative, inside the project root, no symbolic link out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_repro.errors import LineageError
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.manifest import entries, parse_lineage, read_lineage


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
    resolved = _resolved(lineage_path.parent / root, f"{lineage_path}: root")
    if project_root is not None and not resolved.is_relative_to(project_root.resolve()):
        raise LineageError(f"{lineage_path}: root: {root!r} resolves outside the project root {project_root}")
    return resolved


def inferred_project_root(lineage_path: Path, cwd: Path | None = None) -> Path:
    """The project root to confine a lineage to when none is given.

    The working directory when the lineage lies inside it (the usual case: the check
    runs in the project); otherwise the folder above the lineage's own folder, which is
    where a training that writes `artifacts/lineage.json` beside its config puts it.
    A lineage whose `root` reaches higher than that needs an explicit `--root`.
    """
    cwd = (cwd or Path.cwd()).resolve()
    resolved = lineage_path.resolve()
    return cwd if resolved.is_relative_to(cwd) else resolved.parent.parent


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
    resolved = _resolved(candidate, where)
    if not resolved.is_relative_to(root):
        kind = (
            "symbolic link points"
            if candidate.is_symlink() or _has_symlink(root, relative)
            else "path escapes"
        )
        raise LineageError(f"{where}: {kind} outside the project root: {relative!r}")
    return resolved


def _resolved(path: Path, where: str) -> Path:
    """`path` resolved; a symbolic link loop (RuntimeError up to Python 3.12, OSError ELOOP after) is a LineageError."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        raise LineageError(f"{where}: cannot be resolved: a symbolic link loop") from None


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
        """Say in one line what failed, naming the file (once, when the entry is named by its path)."""
        shown = self.path if self.name == self.path else f"{self.name}: {self.path}"
        if self.error:
            return f"{shown}: {self.error}"
        return f"{shown}: SHA-256 is {self.actual} but the lineage records {self.expected}"

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
    for item in entries(lineage, lineage_path):
        resolved = resolve_entry(root, item.path, name=item.name, lineage_path=lineage_path)
        checks.append(_check_file(item.name, item.path, resolved, item.sha256))
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
