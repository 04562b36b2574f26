"""A trained-looking project for the tests that verify lineages (shared through `pythonpath`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.manifest import build_lineage


class FakeProject:
    """A project folder with inputs and artifacts of arbitrary bytes, and a lineage naming them.

    The lineage tests, the check script, the hooks and the exports all verify such a
    project; one builder keeps their idea of "a trained project" the same.
    """

    FILES: ClassVar[dict[str, str]] = {
        "dataset": "ml_datasource.csv",
        "config": "config.yaml",
        "model": "artifacts/best_model.joblib",
        "threshold": "artifacts/threshold.txt",
        "metrics": "artifacts/metrics.json",
        "drift_baseline": "artifacts/drift_baseline.json",
    }

    def __init__(self, root: Path, files: dict[str, str] | None = None):
        self.root = root
        self.relative = dict(files or self.FILES)
        self.lineage_path = root / "artifacts" / "lineage.json"

    @property
    def files(self) -> dict[str, Path]:
        """The lineage's entries as absolute paths."""
        return {name: self.root / relative for name, relative in self.relative.items()}

    def write_files(self, contents: dict[str, bytes] | None = None) -> FakeProject:
        """Write each file: the given bytes, or a few distinct bytes per entry."""
        for number, (name, path) in enumerate(self.files.items()):
            path.parent.mkdir(parents=True, exist_ok=True)
            data = (contents or {}).get(name, f"{name}\n".encode() + bytes(range(number, number + 50)))
            path.write_bytes(data)
        return self

    INPUTS: ClassVar[tuple[str, ...]] = ("dataset", "config")
    MIRROR: ClassVar[tuple[str, ...]] = ("dataset", "config", "model", "threshold")

    def build_lineage(self, **overrides: Any) -> dict[str, Any]:
        """Return a version-2 manifest for the files as they are now; keyword arguments replace build_lineage's.

        `files` (name -> path) may be overridden as a whole; names in INPUTS are inputs,
        the others outputs, and the design's four entries are mirrored at the top level.
        """
        files = overrides.pop("files", self.files)
        arguments: dict[str, Any] = {
            "lineage_path": self.lineage_path,
            "root": self.root,
            "inputs": {name: path for name, path in files.items() if name in self.INPUTS},
            "outputs": {name: path for name, path in files.items() if name not in self.INPUTS},
            "seed": 42,
            "folds": {"n_splits": 5, "sha256": "0" * 64},
            "environment": {"python": "3.11.9", "packages": {"scikit-learn": "1.9.0"}},
            "code": None,
            "mirror": tuple(name for name in self.MIRROR if name in files),
        }
        arguments.update(overrides)
        if "hashes" not in arguments:
            arguments["hashes"] = {name: sha256_file(path) for name, path in files.items()}
        return build_lineage(**arguments)

    def build_v1_lineage(self) -> dict[str, Any]:
        """Return a manifest as version 1 wrote it (flat, no schema-2 sections), for compatibility tests."""
        entries = {
            name: {"path": relative, "sha256": sha256_file(self.root / relative)}
            for name, relative in self.relative.items()
        }
        return {
            "schema_version": 1,
            "run_id": "6f1c1f0e-0000-5000-8000-000000000001",
            "root": "..",
            "seed": 42,
            **entries,
            "cv_folds": {"n_splits": 5, "sha256": "0" * 64},
            "environment": {"python": "3.11.9"},
            "code": None,
        }

    def write_lineage(self, **overrides: Any) -> Path:
        """Write the manifest as canonical JSON and return its path."""
        path = overrides.get("lineage_path", self.lineage_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(canonical_json(self.build_lineage(**overrides)))
        return path


def set_entry(lineage: dict[str, Any], name: str, **fields: Any) -> None:
    """Change an entry's fields wherever the manifest records it: its section and its top-level mirror."""
    for home, key in _entry_homes(lineage, name):
        home[key].update(fields)


def replace_entry(lineage: dict[str, Any], name: str, value: Any) -> None:
    """Replace an entry as a whole (with anything, valid or not) wherever the manifest records it."""
    for home, key in _entry_homes(lineage, name):
        home[key] = value


def _entry_homes(lineage: dict[str, Any], name: str) -> list[tuple[dict[str, Any], str]]:
    """Where entry `name` is recorded: a version-2 section and its mirror, or a version-1 top level."""
    homes = [
        (lineage[section], name) for section in ("inputs", "outputs") if name in lineage.get(section, {})
    ]
    if name in lineage:
        homes.append((lineage, name))
    if not homes:
        raise KeyError(name)
    return homes
