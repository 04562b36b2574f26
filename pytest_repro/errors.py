"""One exception type per kind of failure, so entry points can map each to an exit code.

Exit codes (documented in the README): 2 for usage and configuration errors, 1 for
verification failures, 3 for an unexpected internal error (a bug: any exception that is
not a ReproError), never 1, so that a crash is not mistaken for "verification failed".
`ReproError.exit_code` carries the mapping so that every command-line entry point
handles errors in one place (`pytest_repro.cli.common.run_cli`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DEBUG_ENV",
    "EXIT_INTERNAL_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VERIFICATION_FAILED",
    "ArtifactError",
    "ConfigError",
    "DatasetError",
    "DatasetPinError",
    "ExportError",
    "LineageError",
    "MissingExtraError",
    "Problem",
    "ReproError",
    "SignatureError",
]

EXIT_OK = 0
EXIT_VERIFICATION_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL_ERROR = 3  # pytest's own status for an internal error, too
# Set to 1 to see the traceback of an internal error instead of its one line.
DEBUG_ENV = "REPRO_DEBUG"


class ReproError(Exception):
    """Base class of every error the project reports to a user as one clear line."""

    exit_code = EXIT_USAGE

    def lines(self) -> list[str]:
        """Return the message as the lines a command-line tool prints."""
        return str(self).splitlines() or [type(self).__name__]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where it is and what is allowed."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


class ConfigError(ReproError):
    """The configuration file is unreadable or breaks the schema; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def keys(self) -> tuple[str, ...]:
        """The dotted keys named by the problems, in report order."""
        return tuple(p.key for p in self.problems)


class MissingExtraError(ReproError):
    """A feature needs an optional dependency that is not installed: one line naming the extra to install."""

    def __init__(self, feature: str, *, extra: str, package: str):
        self.extra = extra
        super().__init__(
            f"{feature} needs the optional package {package!r}, which is not installed: "
            f"pip install 'pytest-repro[{extra}]'"
        )


class ExportError(ReproError):
    """An export's destination (an MLflow tracking store) refused it or could not be reached."""


class DatasetError(ReproError):
    """The dataset is missing, malformed, or does not match its pinned hash."""


class DatasetPinError(DatasetError):
    """The dataset's SHA-256 differs from the one pinned for it: a verification failure."""

    exit_code = EXIT_VERIFICATION_FAILED


class ArtifactError(ReproError):
    """An output folder or artifact cannot be written (a file in the way, a held lock)."""


class LineageError(ReproError):
    """A lineage manifest is missing, malformed, unsafe, or does not match the files it names."""

    exit_code = EXIT_VERIFICATION_FAILED


class SignatureError(LineageError):
    """A lineage's signature envelope is missing when required, malformed, or does not verify.

    `file` is the envelope (or the lineage it should cover); a verification failure, exit 1.
    """

    def __init__(self, message: str, *, file: str):
        self.file = file
        super().__init__(message)
