"""Write a verified lineage as a `dvc.lock` stage, so DVC sees the training's inputs and outputs as up to date.

    repro-export dvc --cmd "python -m training" [--stage train] [--lineage PATH] [--output dvc.lock]

DVC 3 names files by MD5 (`hash: md5`), the lineage by SHA-256.  Each file is read
once, both digests fed from the same chunks (`pytest_repro.lineage.hashing.file_digests`),
and the MD5 is written only if that pass's SHA-256 is the one the lineage records, so
the MD5 describes exactly the verified bytes.  Inputs become `deps`, outputs `outs`, and
the config (an input named `config`, YAML or JSON) its `params`, the whole file as DVC
records a params file tracked without a key list.  Paths are relative to the folder of
the output file (where `dvc.yaml` and `dvc.lock` live), or to the current folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_repro.errors import LineageError
from pytest_repro.lineage.export import CONFIG_INPUT, VerifiedLineage, config_content
from pytest_repro.lineage.hashing import file_digests
from pytest_repro.lineage.manifest import INPUT, OUTPUT, Entry

LOCK_SCHEMA = "2.0"
DEFAULT_STAGE = "train"


def dvc_lock(verified: VerifiedLineage, folder: Path, *, stage: str, cmd: str) -> dict[str, Any]:
    """Return a dvc.lock document with one stage: cmd, deps (inputs), params (the config), outs (outputs)."""
    body: dict[str, Any] = {"cmd": cmd}
    deps = [_file_record(verified, item, folder) for item in verified.role(INPUT)]
    if deps:
        body["deps"] = sorted(deps, key=lambda record: record["path"])
    config = next((item for item in verified.role(INPUT) if item.name == CONFIG_INPUT), None)
    if config is not None and config.path.endswith((".yaml", ".yml", ".json")):
        content = config_content(verified, config)
        if isinstance(content, Mapping):
            # DVC sorts a params file's top-level keys (not the nested ones); so do we, for the same bytes.
            body["params"] = {_relative(verified.resolve(config), folder): dict(sorted(content.items()))}
    outs = [_file_record(verified, item, folder) for item in verified.role(OUTPUT)]
    if outs:
        body["outs"] = sorted(outs, key=lambda record: record["path"])
    return {"schema": LOCK_SCHEMA, "stages": {stage: body}}


def _file_record(verified: VerifiedLineage, item: Entry, folder: Path) -> dict[str, Any]:
    """Return DVC's record of one file (path, hash: md5, md5, size) from one read that is checked against SHA-256."""
    path = verified.resolve(item)
    try:
        digests = file_digests(path, ("sha256", "md5"))
    except OSError as exc:
        raise LineageError(f"{path}: cannot read {item.name} ({exc.strerror})") from None
    actual = digests.hexdigests["sha256"]
    if actual != item.sha256:
        raise LineageError(
            f"{path}: changed while exporting; SHA-256 is {actual}, lineage records {item.sha256}"
        )
    return {
        "path": _relative(path, folder),
        "hash": "md5",
        "md5": digests.hexdigests["md5"],
        "size": digests.size,
    }


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path, folder.resolve())).as_posix()


def lock_yaml(document: Mapping[str, Any]) -> bytes:
    """Serialise a dvc.lock document as DVC writes it: block style, keys in the order given, stable bytes."""
    import yaml

    return yaml.safe_dump(
        dict(document), sort_keys=False, default_flow_style=False, allow_unicode=True
    ).encode()
