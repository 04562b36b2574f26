"""Valid configs of any schema: which optional sections appear, and how each leaf is drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from pytest_repro.core.schema import LeafSpec, SectionSpec
from pytest_repro.strategies.layout import Layout, join, set_key
from pytest_repro.strategies.values import NUMBER_KINDS, allowed_values, is_free_text, narrow

Bounds = Mapping[str, tuple[float | None, float | None]]


def valid_configs(
    schema: type,
    *,
    fixed: Mapping[str, Any] | None = None,
    bounds: Bounds | None = None,
    sections: Sequence[str] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Draw raw config mappings (as `yaml.safe_load` returns them) that `validate(raw, schema)` accepts.

    Every number and choice is drawn from its rule.  Which optional sections appear is
    drawn too: any of them, except that a section declared with `at_least_one` keeps at
    least one of its alternatives.

    - `fixed` maps dotted leaf keys to values held constant (each must be allowed by its
      rule).  Free text (a string rule without choices) has no useful random form: every
      such leaf that can appear must be given here.
    - `bounds` maps numeric dotted keys to `(low, high)`, either of which may be None.
      Each is intersected with the rule's range, so it only narrows it (to keep a fuzzed
      training cheap); an empty intersection is an `InvalidArgument`.
    - `sections` lists the optional sections (dotted keys) that may appear; the others
      never do.  By default every optional section may.
    """
    plan = make_plan(schema, fixed=fixed, bounds=bounds, sections=sections)
    return draw_config(plan, frozenset())


@dataclass(frozen=True)
class Plan:
    """How to draw each leaf that may appear, and which optional sections may appear."""

    layout: Layout
    drawn: tuple[tuple[LeafSpec, st.SearchStrategy[Any]], ...]
    sections: tuple[SectionSpec, ...]
    groups: tuple[tuple[str, ...], ...]
    free: tuple[str, ...]

    def presence(self) -> st.SearchStrategy[frozenset[str]]:
        """Which optional sections a config holds: at least one of each group, any of the rest."""
        parts = [st.lists(st.sampled_from(group), min_size=1, unique=True) for group in self.groups]
        if self.free:
            parts.append(st.lists(st.sampled_from(self.free), unique=True))
        return st.tuples(*parts).map(lambda chosen: frozenset(key for keys in chosen for key in keys))


def make_plan(
    schema: type,
    *,
    fixed: Mapping[str, Any] | None,
    bounds: Bounds | None,
    sections: Sequence[str] | None,
) -> Plan:
    """Check the arguments against the schema and decide how each leaf is drawn."""
    layout = Layout.of(schema)
    allowed = _allowed_sections(layout, sections)
    reachable = [s for s in layout.sections if layout.enclosing(s.key) <= allowed]
    limits = _limits(layout, bounds or {})
    constants = dict(fixed or {})
    for key, value in constants.items():
        problem = layout.leaf(key, "fixed").rule.problem(value)
        if problem is not None:
            raise InvalidArgument(f"fixed: {key} {problem}")
    leaves = [spec for spec in layout.leaves.values() if layout.enclosing(spec.key) <= allowed]
    undrawable = [spec.key for spec in leaves if spec.key not in constants and is_free_text(spec.rule)]
    if undrawable:
        raise InvalidArgument(
            f"free text has no useful random form; give these keys a value in `fixed`: {', '.join(undrawable)}"
        )
    drawn: list[tuple[LeafSpec, st.SearchStrategy[Any]]] = []
    for spec in leaves:
        if spec.key in constants:
            drawn.append((spec, st.just(constants[spec.key])))
            continue
        rule = spec.rule
        if spec.key in limits:
            rule = narrow(rule, spec.key, *limits[spec.key])
        drawn.append((spec, allowed_values(rule, spec.key)))
    groups = _groups(reachable, allowed)
    grouped = {key for group in groups for key in group}
    free = tuple(key for key in layout.optional if key in allowed and key not in grouped)
    return Plan(layout, tuple(drawn), tuple(reachable), groups, free)


def _allowed_sections(layout: Layout, sections: Sequence[str] | None) -> frozenset[str]:
    if sections is None:
        return frozenset(layout.optional)
    if isinstance(sections, str):
        sections = [sections]
    unknown = [key for key in sections if key not in layout.optional]
    if unknown:
        raise InvalidArgument(
            f"sections: {', '.join(map(repr, unknown))} is not an optional section of the config "
            f"schema; optional: {', '.join(layout.optional) or 'none'}"
        )
    return frozenset(sections)


def _limits(layout: Layout, bounds: Bounds) -> dict[str, tuple[float | None, float | None]]:
    limits: dict[str, tuple[float | None, float | None]] = {}
    for key, pair in bounds.items():
        rule = layout.leaf(key, "bounds").rule
        if rule.kind not in NUMBER_KINDS:
            raise InvalidArgument(f"bounds: {key} is a {rule.kind} setting; only numbers narrow")
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise InvalidArgument(f"bounds[{key!r}]: expected (low, high), got {pair!r}")
        limits[key] = (pair[0], pair[1])
    return limits


def _groups(reachable: Sequence[SectionSpec], allowed: frozenset[str]) -> tuple[tuple[str, ...], ...]:
    """The allowed alternatives of each reachable `at_least_one` section; none may be empty."""
    groups = []
    for spec in reachable:
        if spec.at_least_one is None:
            continue
        alternatives = [join(spec.key, name) for name in spec.alternatives]
        group = tuple(key for key in alternatives if key in allowed)
        if not group:
            raise InvalidArgument(
                f"sections: {spec.key} needs at least one {spec.at_least_one} of "
                f"{', '.join(alternatives)}, and none of them may appear"
            )
        groups.append(group)
    return tuple(groups)


@st.composite
def draw_config(draw: st.DrawFn, plan: Plan, forced: frozenset[str]) -> dict[str, Any]:
    """Draw a valid config in which the optional sections in `forced` are present."""
    present = draw(plan.presence()) | forced
    layout = plan.layout
    raw: dict[str, Any] = {}
    for spec, values in plan.drawn:
        if layout.enclosing(spec.key) <= present:
            set_key(raw, spec.key, draw(values))
    # A section without leaves of its own still has to be there, as an empty mapping.
    for section in plan.sections:
        if section.key and layout.enclosing(section.key) <= present:
            node = raw
            for part in section.key.split("."):
                node = node.setdefault(part, {})
    return raw
