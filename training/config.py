"""Load and validate a configuration file into typed, frozen objects.

Validation happens once, before any data is read, and reports every problem at once
(one per line, each naming the file, the dotted key, the value and what is allowed).
The rules themselves live in `training.schema`.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import yaml

from pytest_repro.configs import read_yaml
from pytest_repro.errors import ConfigError, Problem
from training.schema import Config, ModelsConfig, short_repr


def load_config(path: str | Path) -> Config:
    """Read `path` and return the validated configuration, or raise ConfigError listing every problem."""
    path = Path(path)
    return validate_config(read_yaml(path), str(path))


def validate_config(raw: Any, file: str = "<config>") -> Config:
    """Validate an already-parsed mapping against the schema and build a Config."""
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError([Problem(file, "", f"top level must be a mapping of sections, got {got}")])
    built = _build(Config, raw, "", file, problems)
    if problems:
        raise ConfigError(problems)
    return built


def _build(cls: type, raw: dict, prefix: str, file: str, problems: list[Problem]) -> Any:
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
            values[name] = _build(spec.metadata["section"], value, dotted + ".", file, problems)
        else:
            reason = spec.metadata["rule"].problem(value)
            if reason is not None:
                problems.append(Problem(file, dotted, _shorten(reason)))
            values[name] = value
    no_models = cls is ModelsConfig and all(v is None for v in values.values())
    if no_models and not any(p.key.startswith(prefix) for p in problems):
        allowed = ", ".join(known)
        problems.append(Problem(file, prefix.rstrip("."), f"at least one model is required ({allowed})"))
    if any(p.key.startswith(prefix) or p.key == prefix.rstrip(".") for p in problems):
        return None
    return cls(**values)


def _unknown_key(file: str, prefix: str, key: Any, known: list[str]) -> Problem:
    shown = key if isinstance(key, str) else short_repr(key)
    near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f" (did you mean '{near[0]}'?)" if near else f"; allowed: {', '.join(known)}"
    return Problem(file, f"{prefix}{shown}", f"unknown key{hint}")


def _shorten(reason: str) -> str:
    return reason if len(reason) < 300 else reason[:297] + "..."


def config_to_dict(config: Config) -> dict[str, Any]:
    """Return the config as plain data, leaving out absent models, for YAML dumps."""
    data = asdict(config)
    data["models"] = {name: params for name, params in data["models"].items() if params is not None}
    return data


def dump_config(config: Config) -> str:
    """Serialise a config as block YAML with the schema's key order."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=False)
