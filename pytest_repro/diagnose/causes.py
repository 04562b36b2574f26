"""The cause of a difference in the user's code, read from what the runs' recorder saw.

When two runs differ, the failure leads with one `cause:` line, from the runs' recorded
events (`RunRecord.events`, see pytest_repro/running/run_site/_pytest_repro_recorder.py),
in this order of certainty:

1. a draw from a random source no seed reached (numpy's or `random`'s global generator
   before any seed, `default_rng()` without a seed, an estimator fitted with
   `random_state=None`, `uuid4`): randomness the twins cannot share;
2. a file read outside the project and the libraries that only one run read, or that
   both read from different places (a cache under the varied HOME, say).

Nothing is claimed without an event: when the logs show none of these, no line is
given, and the attribute-level diagnosis stands alone.  A wall-clock read is recorded
but never named: most are timing or logging, and a false lead costs more than none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Events = Mapping[str, Sequence[Mapping[str, Any]]]
# Reads of these folders are the machine's, not the training's inputs.
SYSTEM_FOLDERS = ("/proc/", "/sys/", "/dev/", "/etc/", "/usr/", "/lib", "/bin/", "/opt/", "/var/", "/run/")


def cause_line(events_a: Events | None, events_b: Events | None) -> str | None:
    """One line naming the first recorded cause of a difference between two runs, or None."""
    if events_a is None and events_b is None:
        return None
    a, b = events_a or {}, events_b or {}
    for events in (a, b):
        for event in events.get("unseeded", ()):
            if event.get("site"):
                return f"cause: {event['site']} {_unseeded(event['detail'])}"
    return _outside_reads(a, b)


def _unseeded(detail: str) -> str:
    if "global generator" in detail:
        return f"{detail}, which nothing seeded"
    return detail


def _outside_reads(a: Events, b: Events) -> str | None:
    """A file outside the project that the runs read differently: one of them only, or by another path."""
    read_a = {event["detail"]: event for event in a.get("open", ()) if _outside(event["detail"])}
    read_b = {event["detail"]: event for event in b.get("open", ()) if _outside(event["detail"])}
    for path in sorted(set(read_a) ^ set(read_b)):
        event = read_a.get(path) or read_b[path]
        site = event.get("site") or "the training"
        return f"cause: {site} reads {path} (outside the project), which only one run read"
    return None


def _outside(path: str) -> bool:
    """Whether a recorded read is of a file outside the project (recorded paths inside it are relative)."""
    return path.startswith("/") and not path.startswith(SYSTEM_FOLDERS)
