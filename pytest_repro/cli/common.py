"""What every command line of the plugin shares: the parser convention and the one mapping of errors to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from pytest_repro.errors import EXIT_USAGE, ReproError

EXIT_INTERRUPTED = 130


def run_cli(command: Callable[[], int]) -> int:
    """Run a command, turning project errors into one line each and their documented exit code.

    2 means a usage or configuration error, 1 a verification failure, 0 success.
    No traceback reaches the user for an error the project knows about.
    """
    try:
        return command()
    except ReproError as error:
        for line in error.lines():
            print(f"error: {line}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted; previous artifacts were left as they were", file=sys.stderr)
        return EXIT_INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit with the project's usage code (2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message}\n")


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """Return an argument parser with the project's error convention."""
    return _Parser(prog=prog, description=description)
