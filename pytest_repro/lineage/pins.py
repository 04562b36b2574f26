"""The pin registry: the SHA-256 each dataset must have, so a silent change to data stops training.

By default the registry is `dataset_pins.yaml` in the dataset's folder, a mapping of
file name to hex SHA-256 with sorted keys.  Real projects often git-ignore their data
folders, where such a registry would never be committed: a project then names one
registry where it commits it (the ini setting `repro_pins`, which `repro-pin` reads,
and `registry=` here), keyed by each dataset's path relative to the registry's folder.
It is written only by `pin_dataset` (atomically) and read by `check_dataset_pin`
(streamed, for a file of any size) and by `read_pinned_dataset`, which returns the very
bytes it checked for a training to parse.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml

from pytest_repro.core.config_files import read_yaml
from pytest_repro.core.paths import shown_path
from pytest_repro.core.regular_files import open_regular
from pytest_repro.errors import ConfigError, DatasetError, DatasetPinError
from pytest_repro.lineage.atomic import write_bytes_atomic
from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
from pytest_repro.lineage.manifest import is_sha256

PINS_FILE = "dataset_pins.yaml"
T = TypeVar("T")
_HEADER = f"""\
# SHA-256 of each dataset in this folder; training refuses a dataset whose hash differs.
# After a deliberate change to a dataset, re-pin it from this folder with:
#   repro-pin <dataset file>
# and check a pin with:
#   repro-pin --verify <dataset file>
# Written by `repro-pin` (pytest-repro); the file name {PINS_FILE} is fixed.
"""
# A project's own registry (ini repro_pins), wherever the project keeps it.
_PROJECT_HEADER = """\
# SHA-256 of each dataset, by its path relative to this file's folder; training refuses a
# dataset whose hash differs. After a deliberate change to a dataset, re-pin it with:
#   repro-pin <dataset file>
# and check a pin with:
#   repro-pin --verify <dataset file>
# Written by `repro-pin` (pytest-repro), where the ini setting repro_pins names it.
"""

PathLike = str | os.PathLike[str]


def registry_path(dataset: PathLike, registry: PathLike | None = None) -> Path:
    """Return where the pin of `dataset` is kept: `registry`, by default the registry file in its folder."""
    return Path(registry) if registry is not None else Path(dataset).parent / PINS_FILE


def pin_key(dataset: PathLike, registry: PathLike) -> str:
    """A dataset's entry in a registry: its POSIX path relative to the registry's folder (beside it: its name)."""
    folder = Path(registry).absolute().parent
    return Path(os.path.relpath(Path(dataset).absolute(), folder)).as_posix()


def pin_dataset(path: PathLike, registry: PathLike | None = None) -> str:
    """Record the dataset's current SHA-256 in its registry and return the hash.

    Other entries are kept; the file is rewritten atomically with sorted keys, so a
    reader never sees half a registry and the same pins always give the same bytes.
    """
    path = Path(path)
    actual = _hash_dataset(path)
    target = registry_path(path, registry)
    pins = _read_pins(target) if target.exists() else {}
    pins[pin_key(path, target)] = actual
    body = yaml.safe_dump(dict(sorted(pins.items())), sort_keys=True, default_flow_style=False)
    header = _HEADER if registry is None else _PROJECT_HEADER
    try:
        write_bytes_atomic(target, (header + body).encode("utf-8"))
    except OSError as exc:
        raise DatasetError(f"{target}: cannot write the pin registry ({exc.strerror})") from None
    return actual


def check_dataset_pin(path: PathLike, registry: PathLike | None = None) -> str:
    """Return the dataset's SHA-256 if it equals the pinned one; raise otherwise.

    A missing dataset, registry or entry is a DatasetError (exit 2: fix the setup);
    a different hash is a DatasetPinError (exit 1: the data changed).
    """
    path = Path(path)
    actual = _hash_dataset(path)
    _check_against_pin(path, actual, registry)
    return actual


def read_pinned_dataset(path: PathLike, registry: PathLike | None = None) -> tuple[bytes, str]:
    """Read the dataset once, check those bytes against the pin, and return them with their SHA-256.

    A training parses the returned bytes, never the file a second time: a file swapped
    between the check and the read would otherwise train on unpinned data while the
    lineage records the pinned hash.  The cost is the file's size in memory, which a
    CSV training pays anyway once the rows are parsed.
    """
    path = Path(path)
    data = _read_dataset(path)
    actual = sha256_bytes(data)
    _check_against_pin(path, actual, registry)
    return data, actual


def _check_against_pin(path: Path, actual: str, registry: PathLike | None) -> None:
    target = registry_path(path, registry)
    # Named as the user would type them from where they ran the command.
    shown, shown_registry = shown_path(path), shown_path(target)
    how = f"pin it with: repro-pin {shown}"
    if not target.exists():
        where = " beside the dataset" if registry is None else ""
        raise DatasetError(f"{shown}: no pin registry {shown_registry}{where}; {how}")
    pins = _read_pins(target)
    expected = pins.get(pin_key(path, target))
    if expected is None:
        raise DatasetError(f"{shown}: not pinned in {shown_registry}; {how}")
    if actual != expected:
        raise DatasetPinError(
            f"{shown}: SHA-256 is {actual} but {target.name} pins {expected}; if the change is "
            f"deliberate, re-pin with: repro-pin {shown}"
        )


def _hash_dataset(path: Path) -> str:
    return _with_dataset_errors(path, lambda: sha256_file(path))


def _read_dataset(path: Path) -> bytes:
    def read() -> bytes:
        with open_regular(path) as handle:
            return handle.read()

    return _with_dataset_errors(path, read)


def _with_dataset_errors(path: Path, read: Callable[[], T]) -> T:
    try:
        if path.is_dir():  # inside the try: is_dir raises for a name too long for the file system
            raise DatasetError(f"{path}: is a folder, expected a dataset file")
        return read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: dataset file not found") from None
    except PermissionError:
        raise DatasetError(f"{path}: permission denied reading the dataset file") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the dataset file ({exc.strerror})") from None
    except ValueError:  # open() refuses a name holding a NUL byte
        raise DatasetError(f"{str(path)!r}: not a usable file name (it holds a NUL byte)") from None


def _read_pins(registry: Path) -> dict[str, str]:
    """Parse and check the registry; a malformed one is never silently overwritten."""
    try:
        raw = read_yaml(registry)
    except ConfigError as exc:
        raise DatasetError(str(exc)) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DatasetError(f"{registry}: expected a mapping of dataset path to SHA-256; fix or delete it")
    pins: dict[str, str] = {}
    for name, digest in raw.items():
        if not isinstance(name, str) or not is_sha256(digest):
            raise DatasetError(
                f"{registry}: entry {name!r} must map a file name to 64 lowercase hex digits; "
                "fix or delete it"
            )
        pins[name] = digest
    return pins
