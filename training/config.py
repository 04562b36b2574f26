"""Load and validate the demo's configuration file into typed, frozen objects.

Validation happens once, before any data is read, and reports every problem at once
(one per line, each naming the file, the dotted key, the value and what is allowed).
The rules live in `training.schema`; the walk that applies them is the plugin's
`pytest_repro.schema.validate`, which any project can call with its own schema.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from pytest_repro.configs import parse_yaml_bytes, read_config_bytes
from pytest_repro.lineage.hashing import sha256_bytes
from pytest_repro.schema import validate
from training.schema import Config


def load_config(path: str | Path) -> Config:
    """Read `path` and return the validated configuration, or raise ConfigError listing every problem."""
    return load_config_with_digest(path)[0]


def load_config_with_digest(path: str | Path) -> tuple[Config, str]:
    """Read `path` once; return the validated configuration and the SHA-256 of the very bytes parsed."""
    path = Path(path)
    data = read_config_bytes(path)
    return validate_config(parse_yaml_bytes(data, str(path)), str(path)), sha256_bytes(data)


def validate_config(raw: Any, file: str = "<config>") -> Config:
    """Validate an already-parsed mapping against the demo's schema and build a Config."""
    return validate(raw, Config, file)


def config_to_dict(config: Config) -> dict[str, Any]:
    """Return the config as plain data, leaving out absent models, for YAML dumps."""
    data = asdict(config)
    data["models"] = {name: params for name, params in data["models"].items() if params is not None}
    return data


def dump_config(config: Config) -> str:
    """Serialise a config as block YAML with the schema's key order."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=False)
