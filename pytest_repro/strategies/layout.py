"""Where each key of a schema sits, and how a dotted key is read and written in a raw config.

The strategies read the schema through one `Layout`, built when a strategy is built, so
a rule changed at run time is seen by the next strategy built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis.errors import InvalidArgument

from pytest_repro.core.schema import LeafSpec, SectionSpec, iter_leaves, iter_sections


@dataclass(frozen=True)
class Layout:
    """The leaves, sections and optional sections of one schema, by dotted key."""

    leaves: Mapping[str, LeafSpec]
    sections: tuple[SectionSpec, ...]
    optional: tuple[str, ...]

    @classmethod
    def of(cls, schema: type) -> Layout:
        """Walk the schema rooted at the dataclass `schema`."""
        if not (isinstance(schema, type) and dataclasses.is_dataclass(schema)):
            raise InvalidArgument(f"schema: expected the root dataclass of a config schema, got {schema!r}")
        sections = tuple(iter_sections(schema))
        return cls(
            leaves={spec.key: spec for spec in iter_leaves(schema)},
            sections=sections,
            optional=tuple(spec.key for spec in sections if spec.optional),
        )

    def leaf(self, key: str, argument: str) -> LeafSpec:
        """Return the leaf at `key`, or fail naming the `argument` that gave it."""
        if key not in self.leaves:
            raise InvalidArgument(
                f"{argument}: {key!r} is not a leaf of the config schema; known: {', '.join(self.leaves)}"
            )
        return self.leaves[key]

    def enclosing(self, key: str) -> frozenset[str]:
        """The optional sections that must be present for `key` to be: its ancestors, and itself."""
        return frozenset(o for o in self.optional if key == o or key.startswith(o + "."))


def join(prefix: str, name: str) -> str:
    """Join a section's dotted key ("" for the top level) and a name in it."""
    return f"{prefix}.{name}" if prefix else name


def set_key(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted `key` of `raw`, creating the sections on the way."""
    *parents, name = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[name] = value


def get_key(raw: dict[str, Any], key: str) -> Any:
    """Return the value at the dotted `key` of `raw` ("" is `raw` itself)."""
    node: Any = raw
    for part in key.split(".") if key else ():
        node = node[part]
    return node
