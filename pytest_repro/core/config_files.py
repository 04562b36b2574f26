"""Read YAML files safely: the one reader of every config, pin registry and YAML input of the plugin.

A strict safe loader refuses duplicate keys and alias bombs, reads `1e-6` as a number
(YAML 1.2) and turns every failure into a one-line ConfigError naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pytest_repro.core.parsing import int_digits_problem
from pytest_repro.core.regular_files import read_regular
from pytest_repro.errors import ConfigError, Problem

__all__ = ["parse_yaml_bytes", "read_config_bytes", "read_yaml"]

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
        try:
            hash(key)
        except TypeError:  # `? [a, b]`: a sequence or mapping used as a key
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain values, not a list or mapping", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _construct_int(loader: _StrictLoader, node: yaml.ScalarNode) -> int:
    problem = int_digits_problem(str(node.value))
    if problem is not None:
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
    return loader.construct_yaml_int(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
# YAML 1.2 reads `1e-6` as a number; PyYAML's YAML 1.1 rules would make it the string "1e-6".
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely; every failure becomes a one-line ConfigError naming the file."""
    return parse_yaml_bytes(read_config_bytes(path), str(path))


def read_config_bytes(path: Path) -> bytes:
    """Return a config file's bytes, read once (a regular file only); failures are one-line ConfigErrors.

    A training that records the config's hash hashes these bytes and parses these bytes
    (`parse_yaml_bytes`), so an edit during the run cannot be recorded in their place.
    """
    name = str(path)
    try:
        if path.is_dir():
            raise ConfigError([Problem(name, "", "is a folder, expected a YAML file")])
        data = read_regular(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ConfigError([Problem(name, "", "config file not found")]) from None
    except PermissionError:
        raise ConfigError([Problem(name, "", "permission denied reading the config file")]) from None
    except OSError as exc:
        raise ConfigError([Problem(name, "", f"cannot read config file ({exc.strerror})")]) from None
    return data


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
        # A value the constructors refused (a huge integer, a duplicate key) sits in a file
        # that parses: name its dotted key.  A syntax error has no tree to find it in.
        key = _dotted_key_at(text, mark) if isinstance(exc, yaml.constructor.ConstructorError) else ""
        if key:
            raise ConfigError([Problem(name, key, f"{reason}{where}")]) from None
        raise ConfigError([Problem(name, "", f"YAML syntax error{where}: {reason}")]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError([Problem(name, "", f"invalid YAML: {type(exc).__name__}")]) from None


def _dotted_key_at(text: str, mark: yaml.Mark | None) -> str:
    """The dotted key of the scalar key or value that starts at `mark`, or "" when there is none.

    Composing builds the node tree without constructing any value, so the integer
    or key the constructors refused is found by its position alone.
    """
    if mark is None:
        return ""
    try:
        root = yaml.compose(text, Loader=_StrictLoader)
    except (yaml.YAMLError, RecursionError):
        return ""
    found = _path_to(root, mark.index, []) if root is not None else None
    return ".".join(found or [])


def _path_to(node: yaml.Node, index: int, path: list[str]) -> list[str] | None:
    """The keys leading to the scalar (or key) starting at character `index` below `node`."""
    children: list[tuple[yaml.Node, list[str]]] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.start_mark.index == index:  # a key: the key itself, or its mapping when not a scalar
                return [*path, key_node.value] if isinstance(key_node, yaml.ScalarNode) else path
            here = [*path, str(key_node.value)] if isinstance(key_node, yaml.ScalarNode) else path
            children.append((value_node, here))
    elif isinstance(node, yaml.SequenceNode):
        children = [(item, [*path, str(position)]) for position, item in enumerate(node.value)]
    for child, here in children:
        if isinstance(child, yaml.ScalarNode) and child.start_mark.index == index:
            return here
        found = _path_to(child, index, here)
        if found is not None:
            return found
    return None


def config_seed(path: Path) -> int | None:
    """The config's top-level integer `seed`, if it has a valid one: what a run uses when given none."""
    from pytest_repro.core.seed_bounds import is_seed

    try:
        data = read_yaml(path)
    except ConfigError:  # unreadable: whoever reads the config for real reports why
        return None
    seed = data.get("seed") if isinstance(data, dict) else None
    return seed if is_seed(seed) else None
