"""Declared volatility (`repro_ignore`): what may differ between two runs by design, set aside in plain view.

Each line is one rule, of three kinds:

- `GLOB`: an output the glob matches may differ entirely (`logs/*.txt`);
- `GLOB:/POINTER`: inside a JSON or YAML output the value an RFC 6901 pointer names may
  differ, or be missing from one run (`data/metadata.json:/created_at`).  A segment that
  is exactly `*` stands for every key of a mapping or item of a list
  (`metrics.json:/timing/*`), so a key literally named `*` cannot be named;
- a glob with `{id}` segments pairs outputs whose paths differ only there, where a tracker
  writes the ids it generates (`mlruns/{id}/models/{id}/artifacts/**`: MLflow's experiment
  and model ids).  The pair is compared under its paired name, `{id}` kept in it.

Globs are the ones `repro_copy` takes (`paths.matches_any`: `*` and `**` span folders).
Nothing is dropped silently: each value or output set aside is listed as
`ignored (declared)`, and a rule that matched nothing fails the check, naming it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pytest_repro.diagnose.bytes_diff import same_bytes
from pytest_repro.diagnose.difference import Difference

if TYPE_CHECKING:
    from pytest_repro.core.run_records import RunRecord

ID_SEGMENT = "{id}"
# A pointer reaches into these outputs, or into a file without an extension (MLflow's MLmodel).
POINTER_SUFFIXES = (".json", ".yaml", ".yml")
IGNORED_PROPERTY = "repro_ignored"
_GLOB_CHARACTERS = frozenset("*?[")


class IgnoreError(Exception):
    """A declaration that cannot be applied to these runs (an ambiguous pairing, a pointer into a non-JSON file)."""


@dataclass(frozen=True)
class IgnoreRule:
    """One `repro_ignore` line: a glob, and the pointer into the outputs it matches (None: the whole output)."""

    text: str
    glob: str
    pointer: tuple[str, ...] | None = None

    @property
    def pairs(self) -> bool:
        """Whether the rule pairs outputs by the rest of their path (`{id}` segments)."""
        return ID_SEGMENT in self.glob.split("/")

    def matches(self, name: str) -> bool:
        """Whether an output's (paired) name is one this rule speaks of."""
        from pytest_repro.core.paths import matches_any

        return matches_any(name, [self.glob.replace(ID_SEGMENT, "*")])


def parse_rules(lines: Iterable[str], where: str) -> tuple[IgnoreRule, ...]:
    """The rules of `repro_ignore` lines; a bad line is one ValueError starting with `where` and the line."""
    return tuple(parse_rule(line, where) for line in lines if line.strip())


def parse_rule(line: str, where: str) -> IgnoreRule:
    """One `repro_ignore` line as a rule; ValueError names the line and what is allowed."""
    text = line.strip()
    glob, colon, pointer = text.partition(":")
    problem = _glob_problem(glob)
    if problem is None and colon:
        problem = _pointer_problem(glob, pointer)
    if problem is not None:
        raise ValueError(f"{where} {text!r}: {problem}")
    return IgnoreRule(text, glob, _pointer_segments(pointer) if colon else None)


def _glob_problem(glob: str) -> str | None:
    if not glob:
        return "no glob; expected GLOB, GLOB:/JSON-POINTER, or a glob with {id} segments"
    if glob.startswith("/") or ".." in PurePosixPath(glob).parts:
        return "must be a glob relative to the project"
    for segment in glob.split("/"):
        if not segment:
            return "an empty path segment (//)"
        if "**" in segment and segment != "**":
            return "'**' must be a whole path segment"
        if ("{" in segment or "}" in segment) and segment != ID_SEGMENT:
            return f"unknown segment {segment!r}; the one placeholder is a whole segment {ID_SEGMENT}"
        if segment.count("[") != segment.count("]"):
            return f"malformed glob segment {segment!r} (an unclosed '[')"
    return None


def _pointer_problem(glob: str, pointer: str) -> str | None:
    if not pointer:
        return "an empty JSON pointer after ':'; expected GLOB:/key/key (RFC 6901), e.g. metadata.json:/created_at"
    if not pointer.startswith("/"):
        return f"a JSON pointer starts with '/' (RFC 6901); got {pointer!r}"
    if ID_SEGMENT in glob.split("/"):
        return (
            f"a pairing glob ({ID_SEGMENT}) takes no pointer; add a second line GLOB:/POINTER for its values"
        )
    escaped = pointer.replace("~0", "").replace("~1", "")
    if "~" in escaped:
        return "a '~' in a JSON pointer is '~0' (a '~') or '~1' (a '/')"
    suffix = PurePosixPath(glob).suffix.lower()
    if suffix and not _GLOB_CHARACTERS & set(suffix) and suffix not in POINTER_SUFFIXES:
        return (
            f"a pointer reaches only into JSON or YAML outputs ({', '.join(POINTER_SUFFIXES)}, or a file "
            f"without an extension such as MLflow's MLmodel); {glob!r} is a {suffix} file"
        )
    return None


def _pointer_segments(pointer: str) -> tuple[str, ...]:
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/"))


def pointer_text(path: Sequence[Any]) -> str:
    """A concrete path into a document as its RFC 6901 pointer."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class Volatility:
    """The rules applied to one comparison of two runs: what they set aside, and which matched nothing."""

    def __init__(self, rules: Sequence[IgnoreRule], metrics_name: str = "metrics"):
        self.rules = tuple(rules)
        # What a pointer rule calls the metrics: a command's `repro_metrics` file, a function's `metrics`.
        self.metrics_name = metrics_name
        self.ignored: list[str] = []  # what was set aside, as `name` or `name:/pointer`
        self.set_aside: set[str] = set()  # outputs whose every difference was declared
        self._pointer_hits: dict[str, list[str]] = {}  # a pointer rule: the outputs its glob matched
        self._pointer_found: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def pair(self, a: RunRecord, b: RunRecord) -> tuple[RunRecord, RunRecord]:
        """Both runs with their outputs renamed by the pairing rules (`{id}` segments kept as `{id}`)."""
        pairing = [rule for rule in self.rules if rule.pairs]
        if not pairing:
            return a, b
        return _paired(a, pairing), _paired(b, pairing)

    def paired_name(self, name: str) -> str:
        """An output's name as the pairing rules pair it (`{id}` for its generated ids), else unchanged."""
        rules = [rule for rule in self.rules if rule.pairs]
        return next((p for rule in rules if (p := _paired_name(name, rule.glob)) is not None), name)

    def whole(self, name: str) -> bool:
        """Whether an output may differ entirely."""
        return any(rule.pointer is None and not rule.pairs and rule.matches(name) for rule in self.rules)

    def compare_documents(self, name: str, path_a: Path, path_b: Path) -> Difference | bool | None:
        """Compare a JSON/YAML output less the values its pointer rules name; False when no rule points into it."""
        rules = self._pointing_into(name)
        if not rules:
            return False
        doc_a, doc_b = (_document(path, name, rules[0]) for path in (path_a, path_b))
        masked_a, masked_b = self.masked(name, doc_a, doc_b, note=not same_bytes(path_a, path_b))
        if same_bytes(path_a, path_b):
            return None
        from pytest_repro.diagnose.json_diff import diff_json_values

        difference = diff_json_values(name, masked_a, masked_b, 0.0)
        if difference is None:
            self.set_aside.add(name)
        return difference

    def masked(self, name: str, doc_a: Any, doc_b: Any, *, note: bool = True) -> tuple[Any, Any]:
        """Copies of two parsed documents less the values the pointer rules for `name` declare volatile.

        Each declared value that differs is noted as ignored (with `note`); a rule whose
        pointer finds nothing in either document is reported by `unmatched`.
        """
        paths: list[tuple[Any, ...]] = []
        for rule in self._pointing_into(name):
            self._pointer_hits.setdefault(rule.text, []).append(name)
            found = {*_expand(doc_a, rule.pointer or ()), *_expand(doc_b, rule.pointer or ())}
            if found:
                self._pointer_found.add(rule.text)
            paths.extend(found)
        masked_a, masked_b = copy.deepcopy(doc_a), copy.deepcopy(doc_b)
        for path in sorted(set(paths), key=lambda p: (-len(p), [str(part) for part in p])):
            if note and _value_at(doc_a, path) != _value_at(doc_b, path):
                self.ignored.append(f"{name}:{pointer_text(path)}")
            _remove(masked_a, path)
            _remove(masked_b, path)
        return masked_a, masked_b

    def _pointing_into(self, name: str) -> list[IgnoreRule]:
        return [rule for rule in self.rules if rule.pointer is not None and rule.matches(name)]

    def note_whole(self, name: str) -> None:
        self.ignored.append(name)
        self.set_aside.add(name)

    def unmatched(self, names: Iterable[str]) -> list[str]:
        """A line for each rule that matched nothing among the compared outputs: a typo must not ignore nothing."""
        names = sorted({*names, self.metrics_name})
        lines = []
        for rule in self.rules:
            if not any(rule.matches(name) for name in names):
                shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                lines.append(f"repro_ignore {rule.text!r} matched no output (outputs: {shown or 'none'})")
            elif (
                rule.pointer is not None
                and rule.text in self._pointer_hits
                and rule.text not in self._pointer_found
            ):
                where = ", ".join(sorted(set(self._pointer_hits[rule.text])))
                lines.append(
                    f"repro_ignore {rule.text!r}: no value at {pointer_text(rule.pointer)} in {where} (either run)"
                )
        return lines

    def shown(self) -> str:
        """What was set aside, for a summary row and the JUnit property: `a.json:/created_at, logs/x.txt`."""
        return ", ".join(sorted(set(self.ignored)))


def _paired(run: RunRecord, rules: Sequence[IgnoreRule]) -> RunRecord:
    renamed: dict[str, str] = {}
    for name in run.artifacts:
        paired = Volatility(rules).paired_name(name)
        if paired in renamed.values():
            other = next(n for n, p in renamed.items() if p == paired)
            raise IgnoreError(
                f"repro_ignore pairing is ambiguous: {run.label}'s {other} and {name} both pair as {paired}; "
                f"name the {ID_SEGMENT} segments' neighbours more closely"
            )
        renamed[name] = paired
    return replace(
        run,
        artifacts={renamed[n]: path for n, path in run.artifacts.items()},
        hashes={renamed.get(n, n): digest for n, digest in run.hashes.items()},
    )


def _paired_name(name: str, glob: str) -> str | None:
    """`name` with the segments the glob's `{id}` segments match replaced by `{id}`, or None when it does not match."""
    import fnmatch

    def walk(parts: list[str], pattern: list[str]) -> list[str] | None:
        if not pattern:
            return [] if not parts else None
        head, rest = pattern[0], pattern[1:]
        if head == "**":
            for cut in range(len(parts) + 1):
                tail = walk(parts[cut:], rest)
                if tail is not None:
                    return parts[:cut] + tail
            return None
        if not parts or not (head == ID_SEGMENT or fnmatch.fnmatchcase(parts[0], head)):
            return None
        tail = walk(parts[1:], rest)
        return None if tail is None else [ID_SEGMENT if head == ID_SEGMENT else parts[0], *tail]

    paired = walk(name.split("/"), glob.split("/"))
    return "/".join(paired) if paired is not None else None


def _document(path: Path, name: str, rule: IgnoreRule) -> Any:
    """A JSON or YAML output as plain values; anything else is an IgnoreError naming the rule."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = None
    document: Any = None
    if text is not None:
        try:
            document = json.loads(text)
        except ValueError:
            import yaml

            try:
                document = json.loads(json.dumps(yaml.safe_load(text), default=str))
            except (yaml.YAMLError, ValueError):
                document = None
    if not isinstance(document, dict | list):
        raise IgnoreError(
            f"repro_ignore {rule.text!r}: {name} is not a JSON or YAML file, so no pointer reaches into it"
        )
    return document


def _expand(document: Any, segments: Sequence[str], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The concrete paths a pointer (with `*` segments) names in a document."""
    if not segments:
        return [prefix]
    head, rest = segments[0], segments[1:]
    if isinstance(document, dict):
        keys: Iterable[Any] = list(document) if head == "*" else [head] if head in document else []
    elif isinstance(document, list):
        keys = (
            range(len(document))
            if head == "*"
            else [int(head)]
            if head.isdigit() and int(head) < len(document)
            else []
        )
    else:
        return []
    return [path for key in keys for path in _expand(document[key], rest, (*prefix, key))]


_ABSENT = object()


def _value_at(document: Any, path: Sequence[Any]) -> Any:
    for part in path:
        try:
            document = document[part]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return document


def _remove(document: Any, path: Sequence[Any]) -> None:
    """Drop a mapping's key (present in one run only is no difference), or blank a list's item (keeping positions)."""
    parent = _value_at(document, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
        parent[path[-1]] = "<ignored (declared)>"
