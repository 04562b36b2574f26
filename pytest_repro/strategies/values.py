"""The values a rule allows, as strategies, and narrowing a rule's range to keep a run cheap."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from pytest_repro.core.schema import Rule
from pytest_repro.strategies.layout import Layout

NUMBER_KINDS = ("int", "float")


def valid_values(
    schema: type, key: str, *, low: float | None = None, high: float | None = None
) -> st.SearchStrategy[Any]:
    """Draw values the schema rooted at `schema` allows for one dotted leaf key.

    `low` and `high` narrow a numeric leaf's range (intersected with the rule's, never
    widening it).  For example `valid_values(Settings, "seed")` draws any allowed seed,
    and `valid_values(Settings, "cv.n_splits", high=3)` draws 2 or 3 if the rule
    starts at 2.  Free text has no random form: such a key is an `InvalidArgument`.
    """
    rule = Layout.of(schema).leaf(key, "key").rule
    if low is not None or high is not None:
        rule = narrow(rule, key, low, high)
    return allowed_values(rule, key)


def narrow(rule: Rule, key: str, low: float | None, high: float | None) -> Rule:
    """Intersect the rule's range with [low, high]; a bound that would widen it is ignored."""
    if rule.kind not in NUMBER_KINDS:
        raise InvalidArgument(f"{key} is a {rule.kind} setting; only numbers narrow")
    narrowed = rule
    if low is not None and (rule.low is None or low > rule.low):
        narrowed = replace(narrowed, low=low, low_open=False)
    if high is not None and (rule.high is None or high < rule.high):
        narrowed = replace(narrowed, high=high, high_open=False)
    empty = integer_range(narrowed) is None if rule.kind == "int" else _float_range_empty(narrowed)
    if empty:
        raise InvalidArgument(
            f"{key}: narrowing {rule.allowed()} to [{low}, {high}] leaves no value; "
            "narrowing intersects with the schema's range, it never widens it"
        )
    return narrowed


def integer_range(rule: Rule) -> tuple[int | None, int | None] | None:
    """The integers the rule's range holds, as (min, max) with None for unbounded; None if empty."""
    low = high = None
    if rule.low is not None:
        low = math.floor(rule.low) + 1 if rule.low_open else math.ceil(rule.low)
    if rule.high is not None:
        high = math.ceil(rule.high) - 1 if rule.high_open else math.floor(rule.high)
    if low is not None and high is not None and low > high:
        return None
    return low, high


def _float_range_empty(rule: Rule) -> bool:
    if rule.low is None or rule.high is None:
        return False
    return rule.low > rule.high or (rule.low == rule.high and (rule.low_open or rule.high_open))


def numbers(rule: Rule) -> st.SearchStrategy[Any]:
    """Finite numbers inside the rule's range: integers for "int", floats and integers for "float"."""
    integers = integer_range(rule)
    ints = st.integers(*integers) if integers is not None else st.nothing()
    if rule.kind == "int":
        return ints
    floats = st.floats(
        min_value=rule.low,
        max_value=rule.high,
        exclude_min=rule.low_open and rule.low is not None,
        exclude_max=rule.high_open and rule.high is not None,
        allow_nan=False,
        allow_infinity=False,
    )
    # Integers too: YAML writes `C: 5`, and a float rule takes an integer.
    return floats | ints


def is_free_text(rule: Rule) -> bool:
    """Whether the rule takes any string: such a value has no useful random form."""
    return rule.kind not in NUMBER_KINDS and not rule.choices


def allowed_values(rule: Rule, key: str) -> st.SearchStrategy[Any]:
    """Every value the rule allows, except free text, which has no useful random form."""
    if rule.kind in NUMBER_KINDS:
        values = numbers(rule)
    elif rule.choices:
        values = st.sampled_from(rule.choices)
    else:
        raise InvalidArgument(f"{key} is free text; give its value in `fixed` instead of drawing it")
    if rule.keywords:
        values = st.sampled_from(rule.keywords) | values
    if rule.nullable:
        values = st.none() | values
    return values
