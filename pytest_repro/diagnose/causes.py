"""The cause of a difference in the user's code, read from what the runs' recorder saw.

When two runs differ, the failure leads with one `cause:` line, from the runs' recorded
events (`RunRecord.events`, see pytest_repro/running/run_site/_pytest_repro_recorder.py),
in this order of certainty:

1. a draw from a random source no seed reached (numpy's or `random`'s global generator
   before any seed, `default_rng()` without a seed, an estimator fitted with
   `random_state=None`, `uuid4`): randomness the twins cannot share;
2. a folder both runs listed, the same names in another order: the training read it in
   directory order (os.listdir, glob, Path.iterdir), which depends on the file system;
3. a file outside the project and the libraries that only one run read, or that
   both read from different places (a cache under the varied HOME, say).

Nothing is claimed without an event: when the logs show none of these, no line is
given, and the attribute-level diagnosis stands alone.  Between twins a wall-clock read
is recorded but never named: most are timing or logging, and a false lead costs more
than none.

A variation (`variation_cause`) changes one known thing, so there the line names the
earliest event of the varied run whose value differs from the reference run's: a read
of a variable the variation set, a clock read that saw another hour or day, a folder
listed in another order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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
    reordered = [event for event in _changed(b, a, ("listdir",)) if _same_names(event, a)]
    if reordered:
        return _line(reordered[0])
    return _outside_reads(a, b)


def variation_cause(
    reference: Events | None, varied: Events | None, variables: Collection[str]
) -> str | None:
    """One line naming the earliest event of the varied run that the variation changed, or None.

    `variables` are the environment variables whose values the variation changed: a
    read of one of them is such an event; so is a clock read or a folder listing whose
    recorded value differs from the reference run's.
    """
    if reference is None or varied is None:
        return None
    reads = [event for event in varied.get("env", ()) if event["detail"] in variables and event.get("site")]
    found = sorted([*reads, *_changed(varied, reference, ("clock", "listdir"))], key=_rank)
    return _line(found[0]) if found else None


def _rank(event: Mapping[str, Any]) -> tuple[bool, bool, int]:
    """The user's own calls before a library's, then `time.time` reads last (libraries time and log with it), then earliest."""
    return event.get("direct") is False, str(event["detail"]).startswith("time."), _order(event)


def _changed(events: Events, other: Events, kinds: Sequence[str]) -> list[Mapping[str, Any]]:
    """Events of `kinds` in `events` with a site and a value that differ from the same event's in `other`."""
    found = []
    for kind in kinds:
        values = {event["detail"]: event.get("value") for event in other.get(kind, ())}
        for event in events.get(kind, ()):
            value = event.get("value")
            if event.get("site") and value is not None and values.get(event["detail"], value) != value:
                found.append({**event, "kind": kind})
    return sorted(found, key=_order)


def _same_names(event: Mapping[str, Any], other: Events) -> bool:
    """Whether the other run listed the same names in the folder (only their order differs)."""
    values = {e["detail"]: e.get("value") for e in other.get("listdir", ())}
    theirs = values.get(event["detail"])
    return isinstance(theirs, str) and theirs.split("/")[-1] == str(event["value"]).split("/")[-1]


def _order(event: Mapping[str, Any]) -> int:
    return int(event.get("order") or 0)


def _line(event: Mapping[str, Any]) -> str:
    kind, detail = event.get("kind", "env"), event["detail"]
    if kind == "listdir":
        return f"cause: {event['site']} lists {detail} in directory order"
    if kind == "clock":
        return f"cause: {event['site']} calls {detail if detail.endswith(')') else detail + '()'}"
    return f"cause: {event['site']} reads {detail}"


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
