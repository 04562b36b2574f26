"""The demo's config validated from plain data, and back to plain data and block YAML, for the tests."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import yaml

from pytest_repro.core.schema import validate
from training.config import Config


def validate_config(raw: Any, file: str = "<config>") -> Config:
    """Validate an already-parsed mapping against the demo's schema and build a Config."""
    return validate(raw, Config, file)


def config_to_dict(config: Config) -> dict[str, Any]:
    """Return the config as plain data, leaving out absent models."""
    data = asdict(config)
    data["models"] = {name: params for name, params in data["models"].items() if params is not None}
    return data


def dump_config(config: Config) -> str:
    """Serialise a config as block YAML with the schema's key order."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=False)
