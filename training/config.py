"""Load and validate a configuration file into typed, frozen objects.

Validation happens once, before any data is read, and reports every problem at once
(one per line, each naming the file, the dotted key, the value and what is allowed).
The rules themselves live in `training.schema`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import yaml

from training.errors import ConfigError, Problem
from training.schema import Config, ModelsConfig, short_repr

MAX_CONFIG_BYTES = 1_000_000


MAX_ALIASES = 40


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys and alias bombs.

    A config needs few aliases; "billion laughs" needs many, and merge keys (`<<`)
    would copy every level, so past MAX_ALIASES the file is rejected before expansion.
    """

    _aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"more than {MAX_ALIASES} aliases (a YAML alias bomb?)",
                    self.peek_event().start_mark,
                )
        return super().compose_node(parent, index)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *base` merges are allowed; explicit keys may override merged ones
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        try:
            seen.add(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain values", key_node.start_mark
            ) from None
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# YAML 1.2 reads `1e-6` as a number; PyYAML's YAML 1.1 rules would make it the string "1e-6".
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_config(path: str | Path) -> Config:
    """Read `path` and return the validated configuration, or raise ConfigError listing every problem."""
    path = Path(path)
    return validate_config(read_yaml(path), str(path))


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely; every failure becomes a one-line ConfigError naming the file."""
    name = str(path)
    try:
        if path.is_dir():
            raise ConfigError([Problem(name, "", "is a folder, expected a YAML file")])
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([Problem(name, "", "config file not found")]) from None
    except PermissionError:
        raise ConfigError([Problem(name, "", "permission denied reading the config file")]) from None
    except OSError as exc:
        raise ConfigError([Problem(name, "", f"cannot read config file ({exc.strerror})")]) from None
    return parse_yaml_bytes(data, name)


def parse_yaml_bytes(data: bytes, name: str) -> Any:
    """Parse config bytes with the training's YAML rules (no duplicate keys, no alias bombs).

    Every failure is a one-line ConfigError naming `name`; callers that must parse the
    exact bytes they hashed (the in-toto export) use this instead of `read_yaml`.
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError([Problem(name, "", f"larger than {MAX_CONFIG_BYTES} bytes; not a config file")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(name, "", f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([Problem(name, "", f"YAML syntax error{where}: {reason}")]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError([Problem(name, "", f"invalid YAML: {type(exc).__name__}")]) from None


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
