"""Describe a config as frozen dataclasses whose fields carry their rules, and validate raw YAML against it.

A project declares each section of its config as a frozen dataclass.  A leaf field is
`leaf(Rule(...), doc)`, a nested section is `section(cls, doc, optional=...)`, so the
keys, types and bounds live in one place that the validator (`validate`), the
documentation and the hypothesis strategies (`pytest_repro.strategies`) all read.
Nothing here knows any project's config: every walk takes the root dataclass.

    @dataclass(frozen=True)
    class Data:
        path: str = leaf(Rule("str"), "CSV file")
        test_size: float = leaf(Rule("float", low=0, high=1, low_open=True, high_open=True), "held out")

    @dataclass(frozen=True)
    class Settings:
        seed: int = leaf(Rule("int", low=0, high=2**32 - 1), "seed of every random step")
        data: Data = section(Data, "the dataset")

    settings = validate(yaml.safe_load(text), Settings, "train.yaml")

Only the standard library and `pytest_repro.errors` are imported, so a training can
validate its config without pytest or hypothesis installed.
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from pytest_repro.errors import ConfigError, Problem

__all__ = [
    "LeafSpec",
    "Rule",
    "SectionSpec",
    "iter_leaves",
    "iter_sections",
    "leaf",
    "optional_sections",
    "section",
    "short_repr",
    "validate",
]

T = TypeVar("T")

# Past this, a rejected value's explanation is cut: a pasted blob must not flood the terminal.
_MAX_REASON = 300


@dataclass(frozen=True)
class Rule:
    """What one leaf value may be.

    `kind` is "int", "float" or "str".  Numbers are finite; booleans are never numbers
    and numeric strings are never numbers.  `keywords` lists strings a numeric field
    also accepts (a kernel coefficient's "scale"), `nullable` allows YAML null.  A "str"
    rule with neither `choices` nor `pattern` is free text: any non-empty string.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    nullable: bool = False
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and docs."""
        if self.kind == "str":
            if self.choices:
                text = "one of " + ", ".join(repr(c) for c in self.choices)
            elif self.pattern_text:
                text = self.pattern_text
            else:
                text = "a non-empty string"
        else:
            noun = "an integer" if self.kind == "int" else "a number"
            text = noun + self._range_text()
        if self.keywords:
            text = " or ".join(repr(k) for k in self.keywords) + " or " + text
        if self.nullable:
            text += " or null"
        return text

    def _range_text(self) -> str:
        if self.low is not None and self.high is not None:
            left = "(" if self.low_open else "["
            right = ")" if self.high_open else "]"
            return f" in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        if self.low is not None:
            return f" {'>' if self.low_open else '≥'} {_fmt(self.low)}"
        if self.high is not None:
            return f" {'<' if self.high_open else '≤'} {_fmt(self.high)}"
        return ""

    def problem(self, value: Any) -> str | None:
        """Return why `value` is not allowed, or None when it is."""
        if value is None:
            return None if self.nullable else f"is required, got null; expected {self.allowed()}"
        if self.keywords and isinstance(value, str) and value in self.keywords:
            return None
        if self.kind == "str":
            return self._string_problem(value)
        return self._number_problem(value)

    def _string_problem(self, value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return f"got {_show(value)}; expected {self.allowed()}"
        if self.choices and value not in self.choices:
            return f"got {_show(value)}; expected {self.allowed()}"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"got {_show(value)}; expected {self.allowed()}"
        return None

    def _number_problem(self, value: Any) -> str | None:
        wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
        if self.kind == "int" and isinstance(value, float):
            wrong_type = True
        if wrong_type or (isinstance(value, float) and not math.isfinite(value)):
            return f"got {_show(value)}; expected {self.allowed()}"
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if below or above:
            return f"got {_show(value)}; expected {self.allowed()}"
        return None


def _fmt(number: float) -> str:
    """Write a bound as a reader would: 2**32 - 1 rather than 4294967295."""
    if float(number).is_integer() and number >= 2**16 - 1 and (int(number) + 1) & int(number) == 0:
        return f"2**{(int(number) + 1).bit_length() - 1} - 1"
    return str(int(number)) if float(number).is_integer() else repr(number)


def _show(value: Any) -> str:
    """Name a value and its YAML type, so `'5'` (a string) is told apart from `5`."""
    kind = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value))
    if kind is None:
        kind = (
            "mapping"
            if isinstance(value, dict)
            else "list"
            if isinstance(value, list)
            else type(value).__name__
        )
    return f"{short_repr(value)} ({kind})"


_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlevel = 2
_repr.maxlist = 4
_repr.maxdict = 4


def short_repr(value: Any) -> str:
    """Show a value briefly and safely: a YAML alias bomb must not be expanded to print it."""
    return _repr.repr(value)


def leaf(rule: Rule, doc: str) -> Any:
    """Declare a leaf field of a section, with its rule and one line of documentation."""
    return field(metadata={"rule": rule, "doc": doc})


def section(cls: type, doc: str, *, optional: bool = False, at_least_one: str | None = None) -> Any:
    """Declare a nested section; optional sections may be left out (they become None).

    `at_least_one` makes the section's optional sections alternatives of which at least
    one must be given; it is the noun for one of them in the error ("model" gives "at
    least one model is required (...)").  Declared here rather than checked by hand, so
    that the strategies never draw a config without any of them.
    """
    return field(metadata={"section": cls, "doc": doc, "optional": optional, "at_least_one": at_least_one})


# ------------------------------------------------------------------------ the walks


@dataclass(frozen=True)
class LeafSpec:
    """A leaf of the schema with its dotted key, as walked by `iter_leaves`."""

    key: str
    rule: Rule
    doc: str


@dataclass(frozen=True)
class SectionSpec:
    """A section of the schema (the root too, with key ""), as walked by `iter_sections`."""

    key: str
    names: tuple[str, ...]
    required: tuple[str, ...]
    optional: bool
    at_least_one: str | None
    doc: str

    @property
    def alternatives(self) -> tuple[str, ...]:
        """The names that may be left out; with `at_least_one`, those of which one must stay."""
        return tuple(name for name in self.names if name not in self.required)


def iter_leaves(root: type, prefix: str = "") -> Iterator[LeafSpec]:
    """Yield every leaf of the schema rooted at the dataclass `root`, with its dotted key."""
    for f in fields(root):
        key = f"{prefix}{f.name}"
        if "section" in f.metadata:
            yield from iter_leaves(f.metadata["section"], key + ".")
        else:
            yield LeafSpec(key, f.metadata["rule"], f.metadata["doc"])


def iter_sections(
    root: type, key: str = "", *, optional: bool = False, at_least_one: str | None = None, doc: str = ""
) -> Iterator[SectionSpec]:
    """Yield the root section and every nested one of the schema rooted at `root`, parents first."""
    names = tuple(f.name for f in fields(root))
    required = tuple(f.name for f in fields(root) if not f.metadata.get("optional"))
    yield SectionSpec(key, names, required, optional, at_least_one, doc)
    for f in fields(root):
        if "section" in f.metadata:
            yield from iter_sections(
                f.metadata["section"],
                f"{key}.{f.name}" if key else f.name,
                optional=f.metadata["optional"],
                at_least_one=f.metadata.get("at_least_one"),
                doc=f.metadata["doc"],
            )


def optional_sections(root: type) -> list[str]:
    """Return the dotted keys of the sections of `root`'s schema that may be left out."""
    return [spec.key for spec in iter_sections(root) if spec.optional]


# ------------------------------------------------------------------------ validation


def validate(raw: Any, root: type[T], file: str = "<config>") -> T:
    """Validate a parsed YAML mapping against the schema rooted at `root` and build it.

    Every problem is reported at once, in one ConfigError: one `Problem` per unknown
    key (with the nearest known name when there is one), missing key, section that is
    not a mapping and value its rule refuses, each naming `file` and the dotted key.
    """
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError([Problem(file, "", f"top level must be a mapping of sections, got {got}")])
    problems: list[Problem] = []
    built = _build(root, raw, "", file, problems, None)
    if problems:
        raise ConfigError(problems)
    return built


def _build(
    cls: type, raw: dict, prefix: str, file: str, problems: list[Problem], at_least_one: str | None
) -> Any:
    """Build one section from `raw`, appending its problems; None when the section has any."""
    known = {f.name: f for f in fields(cls)}
    for key in raw:
        if key not in known:
            problems.append(_unknown_key(file, prefix, key, list(known)))
    values: dict[str, Any] = {}
    for name, spec in known.items():
        dotted = f"{prefix}{name}"
        if name not in raw:
            if spec.metadata.get("optional"):
                values[name] = None
            else:
                problems.append(Problem(file, dotted, "missing required key"))
            continue
        value = raw[name]
        if "section" in spec.metadata:
            if not isinstance(value, dict):
                problems.append(Problem(file, dotted, f"got {short_repr(value)}; expected a mapping of keys"))
                continue
            nested = spec.metadata["section"]
            values[name] = _build(
                nested, value, dotted + ".", file, problems, spec.metadata.get("at_least_one")
            )
        else:
            reason = spec.metadata["rule"].problem(value)
            if reason is not None:
                problems.append(Problem(file, dotted, _shorten(reason)))
            values[name] = value
    if at_least_one is not None:
        _require_one(cls, values, prefix, file, problems, at_least_one)
    if any(p.key.startswith(prefix) or p.key == prefix.rstrip(".") for p in problems):
        return None
    return cls(**values)


def _require_one(
    cls: type, values: dict[str, Any], prefix: str, file: str, problems: list[Problem], noun: str
) -> None:
    """Report a section none of whose alternatives is given, unless it already has a problem."""
    alternatives = [f.name for f in fields(cls) if f.metadata.get("optional")]
    if any(values.get(name) is not None for name in alternatives):
        return
    if not any(p.key.startswith(prefix) for p in problems):
        allowed = ", ".join(alternatives)
        problems.append(Problem(file, prefix.rstrip("."), f"at least one {noun} is required ({allowed})"))


def _unknown_key(file: str, prefix: str, key: Any, known: list[str]) -> Problem:
    shown = key if isinstance(key, str) else short_repr(key)
    near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f" (did you mean '{near[0]}'?)" if near else f"; allowed: {', '.join(known)}"
    return Problem(file, f"{prefix}{shown}", f"unknown key{hint}")


def _shorten(reason: str) -> str:
    return reason if len(reason) < _MAX_REASON else reason[: _MAX_REASON - 3] + "..."
