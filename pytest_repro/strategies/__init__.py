"""Hypothesis strategies that draw valid and invalid configs from any project's schema.

The schema is the root dataclass a project declares with `pytest_repro.core.schema`
(`Rule`, `leaf`, `section`).  Every value is drawn from the rule declared for its key,
so a bound changed in the schema changes what is generated; nothing here repeats a
bound, and nothing knows any particular project.

- `valid_configs(schema, ...)` draws raw config mappings (what `yaml.safe_load`
  returns) that `pytest_repro.core.schema.validate(raw, schema)` must accept;
- `invalid_configs(schema, ...)` draws `(raw_config, dotted_key)` pairs that break
  exactly one rule, with the key the validator's error must name;
- `valid_values(schema, key, ...)` draws the allowed values of one leaf.

Example: the validator must reject every invalid config, naming the key at fault::

    from hypothesis import given

    from pytest_repro.errors import ConfigError
    from pytest_repro.core.schema import validate
    from pytest_repro.strategies import invalid_configs

    from myproject.settings import Settings


    @given(invalid_configs(Settings, fixed={"data.path": "train.csv"}))
    def test_invalid_config_is_rejected_naming_its_key(case):
        raw, key = case
        try:
            validate(raw, Settings, "fuzz.yaml")
        except ConfigError as exc:
            assert key in exc.keys
        else:
            raise AssertionError(f"accepted a config that breaks {key}")

hypothesis is an optional extra of the plugin: the pytest plugin itself never imports
this package, and importing it without hypothesis says how to install it.
`docs/fuzzing.md` shows how to describe a schema and fuzz it.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "hypothesis":
        raise  # hypothesis is installed but one of its own dependencies is missing: say that
    raise ImportError(
        "pytest_repro.strategies needs hypothesis, an optional extra of pytest-repro: "
        'pip install "pytest-repro[hypothesis]"'
    ) from exc

from pytest_repro.strategies.configs import valid_configs
from pytest_repro.strategies.mutations import invalid_configs
from pytest_repro.strategies.values import valid_values

__all__ = ["invalid_configs", "valid_configs", "valid_values"]
