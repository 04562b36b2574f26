"""Invalid configs of any schema: a valid config changed in exactly one place, and the key to blame."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from pytest_repro.strategies.breaking import breaking_values, unknown_names
from pytest_repro.strategies.configs import Bounds, Plan, draw_config, make_plan
from pytest_repro.strategies.layout import Layout, get_key, join, set_key


def invalid_configs(
    schema: type,
    *,
    fixed: Mapping[str, Any] | None = None,
    bounds: Bounds | None = None,
    sections: Sequence[str] | None = None,
) -> st.SearchStrategy[tuple[dict[str, Any], str]]:
    """Draw `(raw_config, dotted_key)`: a config that breaks exactly one rule, and the key to blame.

    The arguments are those of `valid_configs`, which draws the config before it is
    changed in one place, chosen evenly over the schema's keys:

    - a leaf gets a value its rule refuses: a wrong YAML type (a string for a number, a
      numeric string such as "5", True/False, a list, a mapping, null, a float for an
      integer), NaN or ±infinity, a number beyond a bound (just outside it, zero,
      negative, huge), or a string that is empty, not a choice, or not the pattern;
    - a section becomes a list, a scalar or null;
    - a section gains an unknown key (the key to blame is that unknown dotted key);
    - a required key is removed, or every alternative of an `at_least_one` section (the
      key to blame is what is missing: the key, or the section).

    Which values break a rule is decided from the rule's declared type, bounds and
    choices, not by asking the validator, so a validator that stops enforcing a rule
    is caught.
    """
    plan = make_plan(schema, fixed=fixed, bounds=bounds, sections=sections)
    return _invalid(_targets(plan))


@dataclass(frozen=True)
class _Targets:
    """What `invalid_configs` may break, and valid configs to break it in."""

    layout: Layout
    bases: Mapping[frozenset[str], st.SearchStrategy[dict[str, Any]]]
    mutations: st.SearchStrategy[str]
    leaves: st.SearchStrategy[tuple[str, st.SearchStrategy[Any], st.SearchStrategy[Any]]]
    sections: st.SearchStrategy[str]
    extended: st.SearchStrategy[tuple[str, st.SearchStrategy[str]]]
    missing: st.SearchStrategy[tuple[str, tuple[str, ...], str]]

    def base_for(self, key: str) -> st.SearchStrategy[dict[str, Any]]:
        """Valid configs in which `key` (and so every section holding it) is present."""
        return self.bases[self.layout.enclosing(key)]


# Bounds, choices and patterns are data kept per key, so a slip in one of them hides
# from every other key's examples: they get the largest share.  Type checks, unknown and
# missing keys are one code path each, shared by all keys.
_WEIGHTS = (("rule", 4), ("type", 2), ("section", 1), ("unknown", 1), ("missing", 1))
_SECTION_REPLACEMENTS = st.sampled_from([[], None, "x", 1, True])
_UNKNOWN_VALUES = st.sampled_from([1, "x", None, {}])


def _targets(plan: Plan) -> _Targets:
    layout = plan.layout
    leaves = [(spec.key, *breaking_values(spec.rule)) for spec, _ in plan.drawn]
    sections = [s.key for s in plan.sections if s.key]
    extended = [(s.key, unknown_names(s.names)) for s in plan.sections]
    # (section, names removed from it, key to blame): a removed key is blamed on itself,
    # an emptied `at_least_one` section on the section.
    missing = [(s.key, (name,), join(s.key, name)) for s in plan.sections for name in s.required]
    missing += [(s.key, s.alternatives, s.key) for s in plan.sections if s.at_least_one is not None]
    available = {"rule": leaves, "type": leaves, "section": sections, "unknown": extended, "missing": missing}
    mutations = [name for name, weight in _WEIGHTS if available[name] for _ in range(weight)]
    if not mutations:
        raise InvalidArgument("the config schema has no key that a config could break")
    forced = {frozenset()} | {layout.enclosing(key) for key in layout.optional}
    return _Targets(
        layout=layout,
        bases={keys: draw_config(plan, keys) for keys in forced},
        mutations=st.sampled_from(mutations),
        leaves=_sampled(leaves),
        sections=_sampled(sections),
        extended=_sampled(extended),
        missing=_sampled(missing),
    )


def _sampled(options: Sequence[Any]) -> st.SearchStrategy[Any]:
    # An empty list is never drawn from: its mutation is left out of `mutations`.
    return st.sampled_from(options) if options else st.nothing()


@st.composite
def _invalid(draw: st.DrawFn, targets: _Targets) -> tuple[dict[str, Any], str]:
    # The target is drawn before the config, so that each key is broken equally often
    # whether or not its optional section would have been drawn.
    mutation = draw(targets.mutations)
    if mutation in ("rule", "type"):
        key, wrong_type, beyond_rule = draw(targets.leaves)
        raw = copy.deepcopy(draw(targets.base_for(key)))
        set_key(raw, key, draw(beyond_rule if mutation == "rule" else wrong_type))
        return raw, key
    if mutation == "section":
        key = draw(targets.sections)
        raw = copy.deepcopy(draw(targets.base_for(key)))
        # A list holding the section is what a stray "- " in YAML gives.
        set_key(raw, key, draw(st.just([get_key(raw, key)]) | _SECTION_REPLACEMENTS))
        return raw, key
    if mutation == "unknown":
        section, names = draw(targets.extended)
        raw = copy.deepcopy(draw(targets.base_for(section)))
        name = draw(names)
        get_key(raw, section)[name] = draw(_UNKNOWN_VALUES)
        return raw, join(section, name)
    section, removed, key = draw(targets.missing)
    raw = copy.deepcopy(draw(targets.base_for(section)))
    node = get_key(raw, section)
    for name in removed:
        node.pop(name, None)
    return raw, key
