"""A lineage recorded before the session, as CI's training writes one: train by hand, then edit it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from fake_project import set_entry

from pytest_repro.lineage.atomic import canonical_json


def record_lineage(project: Path) -> Path:
    """Train once into the project's artifacts/, as `python -m training` would, and return the manifest."""
    spec = importlib.util.spec_from_file_location("tinytrain_recorded", project / "tinytrain.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop("tinytrain_recorded", None)
    spec.loader.exec_module(module)
    artifacts = project / "artifacts"
    artifacts.mkdir()
    module.train(str(project / "config.yaml"), str(artifacts))
    return artifacts / "lineage.json"


def rewrite(path: Path, entries: dict[str, dict[str, str]] | None = None, **changes: object) -> None:
    """Change entries (wherever the manifest records them) and top-level keys of a written lineage."""
    lineage = json.loads(path.read_text())
    for name, fields in (entries or {}).items():
        set_entry(lineage, name, **fields)
    lineage.update(changes)
    path.write_bytes(canonical_json(lineage))
