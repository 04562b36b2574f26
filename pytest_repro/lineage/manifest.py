"""The lineage manifest format: what a run read and wrote, by name, path and SHA-256.

Version 2 (written by `write_lineage`) fits any project:

    {"schema_version": 2, "run_id": ..., "root": "..", "seed": 42,
     "inputs":  {NAME: {"path": ..., "sha256": ...}, ...},
     "outputs": {NAME: {"path": ..., "sha256": ...}, ...},
     "cv_folds": {"n_splits": 5, "sha256": ...} or null,
     "environment": {...}, "code": {"git_commit": ..., "dirty": false} or null}

Entry names are free (none is required) and unique across inputs and outputs, so a
verification report can key its checks by name.  A manifest may also repeat some
entries at its top level (`mirror`), as the design document's layout has them
(`"model": {"path", "sha256"}`); a mirrored entry must equal the one it repeats, so a
reader of either form sees the same record.

Version 1 (written before this format existed) is flat: `dataset`, `config`, `model`
and `threshold` are required top-level entries, `metrics` and `drift_baseline`
optional.  It still reads and verifies.

Paths are POSIX paths relative to the project root, and the root itself is stored
relative to the manifest's folder (normally ".."), so a manifest holds no absolute
path and still verifies after the project is moved or cloned elsewhere.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core.parsing import loads_json
from pytest_repro.core.regular_files import read_regular
from pytest_repro.errors import LineageError
from pytest_repro.lineage import DEFAULT_LINEAGE  # noqa: F401 - re-exported: readers import it from here

SCHEMA_VERSION = 2
MAX_LINEAGE_BYTES = 10_000_000
INPUT = "input"
OUTPUT = "output"
# Keys of a version-2 manifest that are not file entries; no entry may be mirrored under them.
RESERVED_KEYS = frozenset(
    {"schema_version", "run_id", "root", "seed", "inputs", "outputs", "cv_folds", "environment", "code"}
)
V1_INPUTS = ("dataset", "config")
V1_REQUIRED_OUTPUTS = ("model", "threshold")
V1_OPTIONAL_OUTPUTS = ("metrics", "drift_baseline")
_RUN_NAMESPACE = uuid.UUID("0b9b5c1e-6a51-4d5e-9a55-6f0d3c2b7a10")
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Entry:
    """One file a manifest records: its name, whether the run read or wrote it, its path and SHA-256."""

    name: str
    role: str
    path: str
    sha256: str


def missing_lineage_message(path: Path | str) -> str:
    """Return the design's message for a manifest that does not exist yet."""
    return f"Missing {Path(path).as_posix()}. Run training first."


def is_sha256(text: Any) -> bool:
    """Return whether `text` is a lowercase hex SHA-256 digest (64 hex digits)."""
    return isinstance(text, str) and len(text) == 64 and _HEX.issuperset(text)


def project_root_for(*folders: Path) -> Path:
    """Return the deepest folder that holds every one of `folders` (resolved)."""
    return Path(os.path.commonpath([folder.resolve() for folder in folders]))


def relative_posix(path: Path, start: Path) -> str:
    """Return `path` relative to `start` as a POSIX string (both resolved first)."""
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def build_lineage(
    *,
    lineage_path: Path,
    root: Path,
    inputs: Mapping[str, Path],
    outputs: Mapping[str, Path],
    hashes: Mapping[str, str],
    seed: int | None,
    folds: Mapping[str, Any] | None,
    environment: Mapping[str, Any],
    code: Mapping[str, Any] | None,
    mirror: Sequence[str] = (),
) -> dict[str, Any]:
    """Assemble a version-2 manifest; `hashes` holds the SHA-256 of every input and output by name.

    run_id is a UUID derived from the names, hashes and seed: two runs that produced the
    same bytes from the same inputs share it, and no randomness enters the file.
    """
    _check_names(inputs, outputs, mirror)

    def section(files: Mapping[str, Path]) -> dict[str, dict[str, str]]:
        return {name: {"path": relative_posix(files[name], root), "sha256": hashes[name]} for name in files}

    recorded = {"inputs": section(inputs), "outputs": section(outputs)}
    every = {**recorded["inputs"], **recorded["outputs"]}
    identity = "\n".join(f"{name}={every[name]['sha256']}" for name in sorted(every))
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": str(uuid.uuid5(_RUN_NAMESPACE, f"{identity}\nseed={seed}")),
        "root": relative_posix(root, lineage_path.parent),
        "seed": seed,
        **recorded,
        **{name: dict(every[name]) for name in mirror},
        "cv_folds": dict(folds) if folds is not None else None,
        "environment": dict(environment),
        "code": dict(code) if code is not None else None,
    }


def _check_names(inputs: Mapping[str, Any], outputs: Mapping[str, Any], mirror: Iterable[str]) -> None:
    for name in (*inputs, *outputs):
        if not isinstance(name, str) or not name:
            raise LineageError(f"lineage entry names must be non-empty strings, got {name!r}")
    shared = sorted(set(inputs) & set(outputs))
    if shared:
        raise LineageError(f"lineage entry names must be unique; both an input and an output: {shared}")
    for name in mirror:
        if name not in inputs and name not in outputs:
            raise LineageError(f"lineage mirror {name!r}: not the name of an input or an output")
        if name in RESERVED_KEYS:
            raise LineageError(f"lineage mirror {name!r}: a reserved key of the manifest")


def read_lineage(path: str | Path) -> dict[str, Any]:
    """Read and structurally validate a manifest; every problem is a one-line LineageError."""
    path = Path(path)
    return parse_lineage(read_lineage_bytes(path), path)


def read_lineage_bytes(path: str | Path) -> bytes:
    """Return a manifest's bytes, read once; a missing, unreadable or oversized file is a LineageError."""
    path = Path(path)
    try:
        data = read_regular(path, MAX_LINEAGE_BYTES)
    except FileNotFoundError:
        raise LineageError(missing_lineage_message(path)) from None
    except IsADirectoryError:
        raise LineageError(f"{path}: is a folder, expected a lineage JSON file") from None
    except PermissionError:
        raise LineageError(f"{path}: permission denied reading the lineage") from None
    except OSError as exc:
        raise LineageError(f"{path}: cannot read the lineage ({exc.strerror})") from None
    if len(data) > MAX_LINEAGE_BYTES:
        raise LineageError(f"{path}: larger than {MAX_LINEAGE_BYTES} bytes; not a lineage file")
    return data


def parse_lineage(data: bytes, path: str | Path) -> dict[str, Any]:
    """Parse and structurally validate manifest bytes already read (e.g. the bytes a signature covers)."""
    path = Path(path)
    try:
        lineage = loads_json(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise LineageError(f"{path}: malformed lineage JSON{where}") from None
    except ValueError as exc:  # an integer too long to read
        raise LineageError(f"{path}: malformed lineage JSON: {exc}") from None
    except RecursionError:
        raise LineageError(f"{path}: malformed lineage JSON: nested too deeply") from None
    if not isinstance(lineage, dict):
        raise LineageError(f"{path}: top level must be a JSON object, got {type(lineage).__name__}")
    entries(lineage, path)  # validates every entry of either version
    if not isinstance(lineage.get("root", "."), str):
        raise LineageError(f"{path}: root: expected a relative path string")
    if "run_id" in lineage and not isinstance(lineage["run_id"], str | type(None)):
        raise LineageError(f"{path}: run_id: expected a string")
    return lineage


def schema_version(lineage: Mapping[str, Any], path: str | Path = "<lineage>") -> int:
    """Return the manifest's format version (1 when absent, as the first manifests had none)."""
    version = lineage.get("schema_version", 1)
    if isinstance(version, bool) or version not in (1, 2):
        raise LineageError(f"{path}: schema_version: got {version!r}; this version reads 1 and 2")
    return version


def entries(lineage: Mapping[str, Any], path: str | Path = "<lineage>") -> tuple[Entry, ...]:
    """Return every file the manifest records, inputs first, each validated; raise LineageError naming a bad one."""
    if schema_version(lineage, path) == 1:
        return _v1_entries(lineage, path)
    found = []
    for section, role in (("inputs", INPUT), ("outputs", OUTPUT)):
        table = lineage.get(section, {})
        if not isinstance(table, dict):
            raise LineageError(f"{path}: {section}: expected an object of name -> {{path, sha256}}")
        found += [_entry(name, role, table[name], f"{section}.{name}", path) for name in sorted(table)]
    names = [entry.name for entry in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LineageError(f"{path}: {duplicates[0]}: both an input and an output; names must be unique")
    _check_mirrors(lineage, {entry.name: entry for entry in found}, path)
    return tuple(found)


def entry(lineage: Mapping[str, Any], name: str, path: str | Path = "<lineage>") -> Entry:
    """Return the entry called `name`; a LineageError names what the manifest records instead."""
    found = {item.name: item for item in entries(lineage, path)}
    if name not in found:
        recorded = ", ".join(sorted(found)) or "nothing"
        raise LineageError(f"{path}: records no entry named {name!r} (it records: {recorded})")
    return found[name]


def _v1_entries(lineage: Mapping[str, Any], path: str | Path) -> tuple[Entry, ...]:
    for name in (*V1_INPUTS, *V1_REQUIRED_OUTPUTS):
        if name not in lineage:
            raise LineageError(f"{path}: {name}: missing required entry")
    found = []
    for names, role in ((V1_INPUTS, INPUT), ((*V1_REQUIRED_OUTPUTS, *V1_OPTIONAL_OUTPUTS), OUTPUT)):
        found += [_entry(name, role, lineage[name], name, path) for name in names if name in lineage]
    return tuple(found)


def _entry(name: str, role: str, raw: Any, where: str, path: str | Path) -> Entry:
    if not isinstance(raw, dict):
        raise LineageError(f"{path}: {where}: expected an object with path and sha256")
    for field in ("path", "sha256"):
        if not isinstance(raw.get(field), str) or not raw[field]:
            raise LineageError(f"{path}: {where}.{field}: expected a non-empty string")
    if not is_sha256(raw["sha256"]):
        raise LineageError(f"{path}: {where}.sha256: not a lowercase hex SHA-256: {raw['sha256'][:70]!r}")
    return Entry(name, role, raw["path"], raw["sha256"])


def _check_mirrors(lineage: Mapping[str, Any], recorded: Mapping[str, Entry], path: str | Path) -> None:
    """A top-level copy of an entry (the design's layout) must say exactly what the entry says."""
    for key, value in lineage.items():
        if key in RESERVED_KEYS:
            continue
        original = recorded.get(key)
        if original is not None and not isinstance(value, dict):
            raise LineageError(f"{path}: {key}: expected an object with path and sha256")
        if not isinstance(value, dict) or "sha256" not in value:
            continue
        if original is None:
            raise LineageError(f"{path}: {key}: a top-level entry that is neither an input nor an output")
        if value != {"path": original.path, "sha256": original.sha256}:
            raise LineageError(f"{path}: {key}: differs from the {original.role} entry it repeats")


def comparable(lineage: Mapping[str, Any], path: str | Path = "<lineage>") -> dict[str, Any]:
    """What two runs' manifests must share beyond what the other twin checks compare.

    Paths and `root` differ between twins by construction (each run has its folder).
    Output hashes, the folds and the run_id (derived from the hashes) are compared by
    the artifact and folds checks already: one cause, one failure.  What is left must
    be equal: the inputs and their hashes, the output names, the seed, the environment
    and the code version.
    """
    kept = {key: lineage.get(key) for key in ("schema_version", "seed", "environment", "code")}
    found = entries(lineage, path)
    kept["inputs"] = {item.name: item.sha256 for item in found if item.role == INPUT}
    kept["outputs"] = sorted(item.name for item in found if item.role == OUTPUT)
    return kept
