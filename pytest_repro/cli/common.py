"""What every command line of the plugin shares: the parser convention and the one mapping of errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from pytest_repro.errors import DEBUG_ENV, EXIT_INTERNAL_ERROR, EXIT_USAGE, ReproError

EXIT_INTERRUPTED = 130


def run_cli(command: Callable[[], int]) -> int:
    """Run a command, turning project errors into one line each and their documented exit code.

    2 means a usage or configuration error, 1 a verification failure, 0 success.
    No traceback reaches the user for an error the project knows about; any other
    exception is a bug, reported as one line with exit 3 (REPRO_DEBUG=1 re-raises it,
    traceback and all).
    """
    try:
        return command()
    except ReproError as error:
        for line in error.lines():
            print(f"error: {line}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"interrupted; {_what_was_published()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"error: {internal_error_line(error)}", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


def _what_was_published() -> str:
    """Say truthfully where an interrupted command left the artifacts it was publishing."""
    from pytest_repro.core.paths import shown_path
    from pytest_repro.lineage.publish import interrupted_commit, published_folders

    journal = interrupted_commit()
    if journal is not None:
        return (
            f"the new artifacts in {shown_path(journal.parent)} are partly in place; the next training "
            f"or load_model finishes the commit ({shown_path(journal)})"
        )
    published = published_folders()
    if published:
        return f"the new artifacts were already published in {shown_path(published[-1])}"
    return "nothing was published; previous artifacts were left as they were"


def internal_error_line(error: BaseException) -> str:
    """Return the one line that reports an unexpected exception, with how to see its traceback."""
    detail = " ".join(str(error).split())
    if len(detail) > 200:
        detail = detail[:197] + "..."
    return f"internal error ({type(error).__name__}: {detail}); rerun with {DEBUG_ENV}=1 for the traceback"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit with the project's usage code (2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message}\n")


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """Return an argument parser with the project's error convention."""
    return _Parser(prog=prog, description=description)
