"""Training progress: a live line on a terminal, plain lines otherwise, nothing with --quiet.

Plain lines are the form the pytest plugin relays from its subprocesses, so they are
kept short and self-contained: `[svm] fold 2/5 roc_auc=0.9123 (3.4s)`.
"""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Report each model and fold as training goes."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, live: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.live = self.stream.isatty() if live is None else live
        self._open_line = False
        self._done: dict[str, int] = {}

    def fold(self, model: str, k: int, n: int, score: float, seconds: float) -> None:
        """Report one finished fold of one model's cross-validation."""
        if self.quiet:
            return
        if self.live:
            # Folds may finish out of order (parallel fits): the bar counts those done, and
            # a model's line stays once all its folds are in.
            self._done[model] = done = self._done.get(model, 0) + 1
            filled = int(20 * done / n)
            bar = "#" * filled + "-" * (20 - filled)
            self.stream.write(f"\r{model:<20} [{bar}] fold {k}/{n} roc_auc={score:.4f} ({seconds:.1f}s)")
            self._open_line = True
            if done == n:
                self._end_line()
        else:
            self.stream.write(f"[{model}] fold {k}/{n} roc_auc={score:.4f} ({seconds:.1f}s)\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Report a step that is not a fold (loading, refitting, writing)."""
        if self.quiet:
            return
        self._end_line()
        self.stream.write(text + "\n")
        self.stream.flush()

    def notice(self, text: str) -> None:
        """Report something the run did to files other than its own outputs; shown even with --quiet."""
        self._end_line()
        self.stream.write(f"note: {text}\n")
        self.stream.flush()

    def _end_line(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False
