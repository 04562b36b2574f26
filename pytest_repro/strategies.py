"""Hypothesis strategies for training configs, generated from the schema's rules.

Every leaf value is drawn from the `Rule` that `training.schema` declares for it, so a
bound changed there changes what is generated here; nothing in this module repeats a
bound.  Arguments narrow ranges (to keep a fuzzed training cheap) by intersecting them
with the schema's, never by widening them.

`valid_configs()` draws raw config mappings (what `yaml.safe_load` returns) that the
validator must accept; `invalid_configs()` draws `(raw_config, dotted_key)` pairs that
break exactly one rule, with the key the validator's error must name.  `valid_values()`
draws the allowed values of one leaf.

Example: the validator must reject every invalid config, naming the key at fault::

    from hypothesis import given

    from pytest_repro.strategies import invalid_configs
    from training.config import validate_config
    from pytest_repro.errors import ConfigError


    @given(invalid_configs())
    def test_invalid_config_is_rejected_naming_its_key(case):
        raw, key = case
        try:
            validate_config(raw, "fuzz.yaml")
        except ConfigError as exc:
            assert key in exc.keys
        else:
            raise AssertionError(f"accepted a config that breaks {key}")

and every config small enough to train quickly must train reproducibly (write `raw`
as YAML beside a pinned copy of the data named `sample.csv`, then train it twice with
the `repro_run` fixture, or `pytest_repro.running.twins.train_twins`, and compare)::

    cheap = valid_configs(
        data_path="sample.csv",
        max_estimators=5, max_splits=3, max_iter=50, max_neighbors=10,
        bounds={"data.test_size": (0.1, 0.5), "models.svm.C": (None, 10.0)},
    )

`docs/fuzzing.md` has both tests in full; `tests/test_fuzz_config.py` runs them.

Unlike the pytest plugin, this module imports hypothesis when it is imported: only
test modules that fuzz import it.
"""

from __future__ import annotations

import copy
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from training.schema import Config, LeafSpec, Rule, iter_leaves, optional_sections

__all__ = [
    "SHIPPED_STRINGS",
    "invalid_configs",
    "valid_configs",
    "valid_values",
]

# The free-text leaves of the shipped config.yaml.  They are held fixed, never drawn: a
# random data.path names no file, and random artifact names only test the file system.
SHIPPED_STRINGS: Mapping[str, str] = {
    "data.path": "ml_datasource.csv",
    "data.target": "purchased",
    "artifacts.model_dir": "artifacts",
    "artifacts.model_file": "best_model.joblib",
    "artifacts.threshold_file": "threshold.txt",
    "artifacts.metrics_file": "metrics.json",
    "artifacts.drift_baseline_file": "drift_baseline.json",
    "artifacts.lineage_file": "lineage.json",
}

# Where each convenience argument of `valid_configs` narrows the schema.
_MAXIMA = {
    "max_estimators": "models.random_forest.n_estimators",
    "max_splits": "cv.n_splits",
    "max_iter": "models.logistic_regression.max_iter",
    "max_neighbors": "models.knn.n_neighbors",
}

_NUMBER_KINDS = ("int", "float")

# Text is drawn from a fixed alphabet rather than all of Unicode: hypothesis builds a
# Unicode table the first time a test draws unrestricted text, which takes seconds on a
# fresh checkout (a CI runner) and trips its too_slow health check.  The alphabet holds
# what breaks names and YAML: separators, YAML indicators, whitespace, non-ASCII.
_ALPHABET = string.ascii_letters + string.digits + "._-/\\ :#&*!|>'\"%@`,[]{}?~=+\t\n\u00a0\u200bäéΩ🙂"
_NAME_ALPHABET = string.ascii_lowercase + string.digits + "_"


def _text(min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet=_ALPHABET, min_size=min_size, max_size=max_size)


@dataclass(frozen=True)
class _Section:
    """A section of the schema: its dotted key ("" for the top level) and its fields."""

    key: str
    names: tuple[str, ...]
    required: tuple[str, ...]
    optional: bool


def _walk_sections(cls: type = Config, key: str = "", optional: bool = False) -> list[_Section]:
    found = [
        _Section(
            key=key,
            names=tuple(f.name for f in fields(cls)),
            required=tuple(f.name for f in fields(cls) if not f.metadata.get("optional")),
            optional=optional,
        )
    ]
    for f in fields(cls):
        if "section" in f.metadata:
            found.extend(_walk_sections(f.metadata["section"], _join(key, f.name), f.metadata["optional"]))
    return found


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _schema() -> tuple[dict[str, LeafSpec], list[_Section], dict[str, str]]:
    """Read the schema now, so a rule changed at run time is seen by the next strategy built."""
    leaves = {spec.key: spec for spec in iter_leaves()}
    sections = _walk_sections()
    models = {key.rsplit(".", 1)[-1]: key for key in optional_sections()}
    return leaves, sections, models


# ------------------------------------------------------------------------ valid values


def _narrow(rule: Rule, key: str, low: float | None, high: float | None) -> Rule:
    """Intersect the rule's range with [low, high]; a bound that would widen it is ignored."""
    if rule.kind not in _NUMBER_KINDS:
        raise InvalidArgument(f"{key} is a {rule.kind} setting; only numbers narrow")
    narrowed = rule
    if low is not None and (rule.low is None or low > rule.low):
        narrowed = replace(narrowed, low=low, low_open=False)
    if high is not None and (rule.high is None or high < rule.high):
        narrowed = replace(narrowed, high=high, high_open=False)
    empty = _integer_range(narrowed) is None if rule.kind == "int" else _float_range_empty(narrowed)
    if empty:
        raise InvalidArgument(
            f"{key}: narrowing {rule.allowed()} to [{low}, {high}] leaves no value; "
            "narrowing intersects with the schema's range, it never widens it"
        )
    return narrowed


def _integer_range(rule: Rule) -> tuple[int | None, int | None] | None:
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


def _numbers(rule: Rule) -> st.SearchStrategy[Any]:
    """Finite numbers inside the rule's range: integers for "int", floats and integers for "float"."""
    integers = _integer_range(rule)
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
    # Integers too: YAML writes `C: 5`, and the schema takes an integer where it takes a float.
    return floats | ints


def _allowed_values(rule: Rule, key: str) -> st.SearchStrategy[Any]:
    """Every value the rule allows, except free text, which has no useful random form."""
    if rule.kind in _NUMBER_KINDS:
        values = _numbers(rule)
    elif rule.choices:
        values = st.sampled_from(rule.choices)
    else:
        raise InvalidArgument(f"{key} is free text; give its value in `fixed` instead of drawing it")
    if rule.keywords:
        values = st.sampled_from(rule.keywords) | values
    if rule.nullable:
        values = st.none() | values
    return values


def valid_values(key: str, *, low: float | None = None, high: float | None = None) -> st.SearchStrategy[Any]:
    """Draw values the schema allows for one dotted leaf key, optionally narrowed to [low, high].

    For example `valid_values("seed")` draws any allowed seed, and
    `valid_values("cv.n_splits", high=3)` draws 2 or 3.
    """
    leaves, _, _ = _schema()
    if key not in leaves:
        raise InvalidArgument(f"{key!r} is not a leaf of the config schema; known: {', '.join(leaves)}")
    rule = leaves[key].rule
    if low is not None or high is not None:
        rule = _narrow(rule, key, low, high)
    return _allowed_values(rule, key)


def valid_configs(
    *,
    data_path: str = SHIPPED_STRINGS["data.path"],
    target: str = SHIPPED_STRINGS["data.target"],
    models: Sequence[str] | None = None,
    max_estimators: int | None = None,
    max_splits: int | None = None,
    max_iter: int | None = None,
    max_neighbors: int | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Draw raw config mappings (as `yaml.safe_load` returns them) that `validate_config` accepts.

    Every number and choice is drawn from its schema rule; which models are present is
    drawn too (at least one, from `models` when given, else from every model).  Free-text
    leaves are fixed: `data_path` and `target`, and the artifact names of the shipped
    config (`SHIPPED_STRINGS`).

    Narrowing, to keep a fuzzed training cheap: `max_estimators` (random forest trees),
    `max_splits` (CV folds), `max_iter` (logistic regression) and `max_neighbors` (kNN)
    cap those leaves; `bounds` maps any numeric dotted key to `(low, high)` (either may be
    None).  Each is intersected with the schema's range, so it can only narrow it; an
    empty intersection is an `InvalidArgument`.  `fixed` maps dotted keys to values held
    constant (each must be allowed by its rule).
    """
    plan = _plan(
        data_path=data_path,
        target=target,
        models=models,
        maxima={
            "max_estimators": max_estimators,
            "max_splits": max_splits,
            "max_iter": max_iter,
            "max_neighbors": max_neighbors,
        },
        bounds=bounds,
        fixed=fixed,
    )
    return _configs(plan, plan.model_selections(), None)


@dataclass(frozen=True)
class _Plan:
    """How to draw each leaf, and which model sections may appear."""

    drawn: tuple[tuple[LeafSpec, st.SearchStrategy[Any]], ...]
    models: tuple[str, ...]

    def model_selections(self) -> st.SearchStrategy[list[str]]:
        """Which models a config holds: at least one, each at most once."""
        return st.lists(st.sampled_from(self.models), min_size=1, unique=True)


def _plan(
    *,
    data_path: str,
    target: str,
    models: Sequence[str] | None,
    maxima: Mapping[str, int | None],
    bounds: Mapping[str, tuple[float | None, float | None]] | None,
    fixed: Mapping[str, Any] | None,
) -> _Plan:
    leaves, _, model_keys = _schema()
    limits: dict[str, list[tuple[float | None, float | None]]] = {}
    for argument, maximum in maxima.items():
        if maximum is not None:
            limits.setdefault(_MAXIMA[argument], []).append((None, maximum))
    for key, pair in (bounds or {}).items():
        if key not in leaves:
            raise InvalidArgument(f"bounds: {key!r} is not a leaf of the config schema")
        if leaves[key].rule.kind not in _NUMBER_KINDS:
            raise InvalidArgument(f"bounds: {key} is a {leaves[key].rule.kind} setting; only numbers narrow")
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise InvalidArgument(f"bounds[{key!r}]: expected (low, high), got {pair!r}")
        limits.setdefault(key, []).append((pair[0], pair[1]))
    constants = {**SHIPPED_STRINGS, "data.path": data_path, "data.target": target, **(fixed or {})}
    for key, value in constants.items():
        if key not in leaves:
            raise InvalidArgument(f"fixed: {key!r} is not a leaf of the config schema")
        problem = leaves[key].rule.problem(value)
        if problem is not None:
            raise InvalidArgument(f"fixed: {key} {problem}")
    drawn: list[tuple[LeafSpec, st.SearchStrategy[Any]]] = []
    for key, spec in leaves.items():
        if key in constants:
            drawn.append((spec, st.just(constants[key])))
            continue
        rule = spec.rule
        for low, high in limits.get(key, ()):
            rule = _narrow(rule, key, low, high)
        drawn.append((spec, _allowed_values(rule, key)))
    return _Plan(tuple(drawn), _chosen_models(models, model_keys))


def _chosen_models(models: Sequence[str] | None, model_keys: Mapping[str, str]) -> tuple[str, ...]:
    if models is None:
        return tuple(model_keys.values())
    if isinstance(models, str):
        models = [models]
    unknown = [m for m in models if m not in model_keys]
    if unknown or not models:
        raise InvalidArgument(
            f"models: got {list(models)!r}; expected a non-empty selection of {', '.join(model_keys)}"
        )
    return tuple(key for name, key in model_keys.items() if name in models)


@st.composite
def _configs(
    draw: st.DrawFn, plan: _Plan, selections: st.SearchStrategy[list[str]], required: str | None
) -> dict[str, Any]:
    """Draw a valid config; `required` names a model section that must be present."""
    present = set(draw(selections))
    if required is not None:
        present.add(required)
    raw: dict[str, Any] = {}
    for spec, values in plan.drawn:
        if spec.optional_section is None or spec.optional_section in present:
            _set(raw, spec.key, draw(values))
    return raw


def _set(raw: dict[str, Any], key: str, value: Any) -> None:
    *parents, name = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[name] = value


def _get(raw: dict[str, Any], key: str) -> Any:
    node: Any = raw
    for part in key.split(".") if key else ():
        node = node[part]
    return node


# ---------------------------------------------------------------------- invalid values


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
    if rule.kind in _NUMBER_KINDS:
        numeric_text = _numbers(rule).map(str)  # "5", "0.2": numbers written as strings
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


def _breaking_values(rule: Rule) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    """Values that break `rule`: of a wrong type, and of the right type but not allowed.

    Both are decided from the rule's declared data, never by calling `Rule.problem`.
    """
    allowed = _numbers(rule) if rule.kind in _NUMBER_KINDS else st.sampled_from(rule.choices or ("x",))
    wrong_type = st.one_of(*_wrong_types(rule, allowed))
    if rule.kind not in _NUMBER_KINDS:
        return wrong_type, _bad_strings(rule)
    beyond = _out_of_range(rule)
    return wrong_type, st.one_of(*beyond) if beyond else wrong_type


def _unknown_names(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Names a section does not have: near misses of its own names, and unrelated ones."""
    near = st.sampled_from(known).flatmap(
        lambda name: st.sampled_from([name + "s", name[:-1], name.upper(), name.replace("_", "-")])
    )
    other = st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=16)
    return (near | other).filter(lambda name: bool(name) and name not in known)


def invalid_configs(
    *,
    data_path: str = SHIPPED_STRINGS["data.path"],
    target: str = SHIPPED_STRINGS["data.target"],
    models: Sequence[str] | None = None,
    max_estimators: int | None = None,
    max_splits: int | None = None,
    max_iter: int | None = None,
    max_neighbors: int | None = None,
    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    fixed: Mapping[str, Any] | None = None,
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
    - a required key is removed, or every model (the key to blame is what is missing).

    Which values break a rule is decided from the rule's declared type, bounds and
    choices, not by asking the validator, so a validator that stops enforcing a rule
    is caught.
    """
    plan = _plan(
        data_path=data_path,
        target=target,
        models=models,
        maxima={
            "max_estimators": max_estimators,
            "max_splits": max_splits,
            "max_iter": max_iter,
            "max_neighbors": max_neighbors,
        },
        bounds=bounds,
        fixed=fixed,
    )
    _, all_sections, _ = _schema()
    sections = [s for s in all_sections if not s.optional or s.key in plan.models]
    leaves = [
        (spec.key, *_breaking_values(spec.rule))
        for spec, _ in plan.drawn
        if spec.optional_section is None or spec.optional_section in plan.models
    ]
    required = [_join(s.key, name) for s in sections for name in s.required]
    targets = _Targets(
        bases={key: _configs(plan, plan.model_selections(), key) for key in (None, *plan.models)},
        leaves=st.sampled_from(leaves),
        sections=st.sampled_from([s.key for s in sections if s.key]),
        extended=st.sampled_from([(s.key, _unknown_names(s.names)) for s in sections]),
        required=st.sampled_from([*required, None]),
    )
    return _invalid(targets)


@dataclass(frozen=True)
class _Targets:
    """What `invalid_configs` may break; `bases` draws a config holding a given model."""

    bases: Mapping[str | None, st.SearchStrategy[dict[str, Any]]]
    leaves: st.SearchStrategy[tuple[str, st.SearchStrategy[Any], st.SearchStrategy[Any]]]
    sections: st.SearchStrategy[str]
    extended: st.SearchStrategy[tuple[str, st.SearchStrategy[str]]]
    required: st.SearchStrategy[str | None]

    def base_for(self, key: str) -> st.SearchStrategy[dict[str, Any]]:
        """Valid configs in which the section holding `key` is present."""
        parts = key.split(".")
        model = ".".join(parts[:2])
        return self.bases[model if parts[0] == "models" and model in self.bases else None]


# Bounds, choices and patterns are data kept per key, so a slip in one of them hides
# from every other key's examples: they get the largest share.  Type checks, unknown and
# missing keys are one code path each, shared by all keys.
_MUTATIONS = st.sampled_from(
    ("rule", "rule", "rule", "rule", "type", "type", "section", "unknown", "missing")
)
_SECTION_REPLACEMENTS = st.sampled_from([[], None, "x", 1, True])
_UNKNOWN_VALUES = st.sampled_from([1, "x", None, {}])


@st.composite
def _invalid(draw: st.DrawFn, targets: _Targets) -> tuple[dict[str, Any], str]:
    # The target is drawn before the config, so that each key is broken equally often
    # whether or not its model would have been drawn.
    mutation = draw(_MUTATIONS)
    if mutation in ("rule", "type"):
        key, wrong_type, beyond_rule = draw(targets.leaves)
        raw = copy.deepcopy(draw(targets.base_for(key)))
        _set(raw, key, draw(beyond_rule if mutation == "rule" else wrong_type))
        return raw, key
    if mutation == "section":
        key = draw(targets.sections)
        raw = copy.deepcopy(draw(targets.base_for(key)))
        # A list holding the section is what a stray "- " in YAML gives.
        _set(raw, key, draw(st.just([_get(raw, key)]) | _SECTION_REPLACEMENTS))
        return raw, key
    if mutation == "unknown":
        section, names = draw(targets.extended)
        raw = copy.deepcopy(draw(targets.base_for(section)))
        name = draw(names)
        _get(raw, section)[name] = draw(_UNKNOWN_VALUES)
        return raw, _join(section, name)
    # missing: a required key of some section, or every model at once (None)
    missing = draw(targets.required)
    if missing is None:
        raw = copy.deepcopy(draw(targets.bases[None]))
        raw["models"] = {}
        return raw, "models"
    raw = copy.deepcopy(draw(targets.base_for(missing)))
    *parents, name = missing.split(".")
    del _get(raw, ".".join(parents))[name]
    return raw, missing
