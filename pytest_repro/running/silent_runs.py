"""What is said about a run that prints nothing for a long time: which run, for how long, what stops it.

A training that never returns holds `pytest --repro` until `repro_timeout` (an hour by
default, long enough for real trainings) and, silent, looks like a hung session.  So a
run that has printed nothing for QUIET_SECONDS is named once, through the sink that
relays its output lines (`RunningTraining.say_if_quiet`), with how long it has run and
how to set the limit.
"""

from __future__ import annotations

# Tests lower it with `monkeypatch.setattr(silent_runs, "QUIET_SECONDS", ...)` in pytester's
# in-process runs: it is read each time a wait for a run wakes, never copied.
QUIET_SECONDS = 60.0


def note(running: float, silent: float, timeout: float | None) -> str:
    """The line for a run silent for `silent` seconds (the sink names the run): how long, what stops it.

    Bracketed like the relay's note of dropped output, so it cannot pass for the training's own line.
    """
    limit = (
        f"it is stopped after {duration(timeout)} (repro_timeout)"
        if timeout is not None
        else "it has no time limit (repro_timeout = 0)"
    )
    return (
        f"[pytest-repro: still running after {duration(running)}, with no output for {duration(silent)}; "
        f"{limit}: set repro_timeout in the ini file, or --repro-timeout SECONDS, to change that]"
    )


def duration(seconds: float) -> str:
    """Seconds as a person reads them: `45 s`, `3 min 5 s`, `1 h 0 min`."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
