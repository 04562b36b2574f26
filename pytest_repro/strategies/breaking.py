"""Values that break a rule, and names a section does not have, decided from the rule's declared data.

Nothing here calls `Rule.problem`: a validator that stops enforcing a rule must be
caught by values chosen from what the rule declares (type, bounds, choices, pattern).
"""

from __future__ import annotations

import math
import string
from typing import Any

from hypothesis import strategies as st

from pytest_repro.core.schema import Rule
from pytest_repro.strategies.values import NUMBER_KINDS, numbers

# Text is drawn from a fixed alphabet rather than all of Unicode: hypothesis builds a
# Unicode table the first time a test draws unrestricted text, which takes seconds on a
# fresh checkout (a CI runner) and trips its too_slow health check.  The alphabet holds
# what breaks names and YAML: separators, YAML indicators, whitespace, non-ASCII.
_ALPHABET = string.ascii_letters + string.digits + "._-/\\ :#&*!|>'\"%@`,[]{}?~=+\t\n\u00a0\u200bäéΩ🙂"
_NAME_ALPHABET = string.ascii_lowercase + string.digits + "_"


def _text(min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet=_ALPHABET, min_size=min_size, max_size=max_size)


def breaking_values(rule: Rule) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    """Values that break `rule`: of a wrong type, and of the right type but not allowed."""
    allowed = numbers(rule) if rule.kind in NUMBER_KINDS else st.sampled_from(rule.choices or ("x",))
    wrong_type = st.one_of(*_wrong_types(rule, allowed))
    if rule.kind not in NUMBER_KINDS:
        return wrong_type, _bad_strings(rule)
    beyond = _out_of_range(rule)
    return wrong_type, st.one_of(*beyond) if beyond else wrong_type


def unknown_names(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Names a section does not have: near misses of its own names, and unrelated ones."""
    other = st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=16)
    if known:
        near = st.sampled_from(known).flatmap(
            lambda name: st.sampled_from([name + "s", name[:-1], name.upper(), name.replace("_", "-")])
        )
        other = near | other
    return other.filter(lambda name: bool(name) and name not in known)


def _breaks_low(rule: Rule, value: float) -> bool:
    assert rule.low is not None
    return value <= rule.low if rule.low_open else value < rule.low


def _breaks_high(rule: Rule, value: float) -> bool:
    assert rule.high is not None
    return value >= rule.high if rule.high_open else value > rule.high


def _out_of_range(rule: Rule) -> list[st.SearchStrategy[Any]]:
    """Numbers of the right type beyond each bound: just outside, zero, negative, huge."""
    out: list[st.SearchStrategy[Any]] = []
    if rule.low is not None:
        below = math.floor(rule.low) if rule.low_open else math.ceil(rule.low) - 1
        ints = [st.integers(max_value=below), st.just(below), st.integers(max_value=min(below, -1))]
        if rule.kind == "int":
            out.extend(ints)
        else:
            just_outside = rule.low if rule.low_open else math.nextafter(rule.low, -math.inf)
            floats = st.floats(max_value=rule.low, allow_nan=False, allow_infinity=False)
            candidates = st.one_of(
                *ints, st.just(just_outside), floats, st.just(0.0), st.just(-1.0), st.just(-1e300)
            )
            out.append(candidates.filter(lambda v: _breaks_low(rule, v)))
    if rule.high is not None:
        above = math.ceil(rule.high) if rule.high_open else math.floor(rule.high) + 1
        ints = [st.integers(min_value=above), st.just(above), st.just(max(above, 2**64))]
        if rule.kind == "int":
            out.extend(ints)
        else:
            just_outside = rule.high if rule.high_open else math.nextafter(rule.high, math.inf)
            floats = st.floats(min_value=rule.high, allow_nan=False, allow_infinity=False)
            candidates = st.one_of(*ints, st.just(just_outside), floats, st.just(1e300))
            out.append(candidates.filter(lambda v: _breaks_high(rule, v)))
    return out


def _wrong_types(rule: Rule, allowed: st.SearchStrategy[Any]) -> list[st.SearchStrategy[Any]]:
    """Values of a YAML type the rule never accepts."""
    wrong: list[st.SearchStrategy[Any]] = [
        st.booleans(),
        st.lists(allowed, max_size=2),
        st.dictionaries(_text(max_size=5), allowed, max_size=2),
    ]
    if not rule.nullable:
        wrong.append(st.none())
    if rule.kind in NUMBER_KINDS:
        numeric_text = numbers(rule).map(str)  # "5", "0.2": numbers written as strings
        wrong.append((numeric_text | _text()).filter(lambda s: s not in rule.keywords))
        # NaN and infinity are floats but never numbers the schema accepts.
        wrong.append(st.sampled_from([math.nan, math.inf, -math.inf]))
        if rule.kind == "int":
            wrong.append(st.floats(allow_nan=False, allow_infinity=False))
    else:
        wrong.append(st.integers() | st.floats(allow_nan=False))
    return wrong


def _bad_strings(rule: Rule) -> st.SearchStrategy[str]:
    """Strings of the right type that are still not allowed: empty, not a choice, not the pattern."""
    options: list[st.SearchStrategy[str]] = [st.just("")]
    if rule.choices:
        variants = st.sampled_from(rule.choices).flatmap(
            lambda c: st.sampled_from([c.upper(), c.title(), f" {c}", f"{c} ", f"{c}s", c[:-1]])
        )
        options.append(variants | _text(min_size=1))
    elif rule.pattern is not None:
        pattern = rule.pattern
        nasty = st.sampled_from(["..", "../up", "/root", "a/../b", "a b", "name\n", "dir\\file", "ü"])
        options.append((nasty | _text(min_size=1)).filter(lambda s: not pattern.fullmatch(s)))
    return st.one_of(*options).filter(lambda s: s not in rule.choices and s not in rule.keywords)
