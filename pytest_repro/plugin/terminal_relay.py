"""Relay the runs' output lines to pytest's terminal, from pytest's own thread only.

Each run's output is read by a thread of its own (`running.launcher`), while pytest's
thread collects and runs tests.  Writing from a reader thread would interleave two runs'
lines mid-line, and suspending pytest's capture from there would race the capture of
whichever test runs at that moment (a test's `capsys` could lose its own output, or
keep a training's line).  So reader threads only queue their lines; pytest's thread
writes them out whenever it passes by: at each test report, and every
`launcher.RELAY_SECONDS` while it waits for a run (`RunningTraining.wait` calls `drain`).
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque

import pytest


class TerminalRelay:
    """A progress sink (`sink(label, line)`) whose lines reach the terminal through `drain()`."""

    def __init__(self, config: pytest.Config, *, enabled: bool):
        self.config = config
        self.enabled = enabled  # off with -q and in xdist workers (the controller shows nothing of theirs)
        self._owner = threading.get_ident()  # pytest's thread: the one that may write
        self._lines: deque[str] = deque()

    def __call__(self, label: str, line: str) -> None:
        if not self.enabled:
            return
        self._lines.append(f"[repro {label}] {line}")  # deque appends are atomic
        self.drain()

    def drain(self) -> None:
        """Write every queued line, when called on pytest's thread (elsewhere it does nothing)."""
        if threading.get_ident() != self._owner or not self._lines:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        lines = []
        while self._lines:
            lines.append(self._lines.popleft())
        if reporter is None:
            return
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            for line in lines:
                reporter.write_line(line)
