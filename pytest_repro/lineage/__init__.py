"""The reproducibility core: streamed hashing, atomic publishing, the lineage manifest, signing, pins, export.

Everything here is usable without pytest, by any training:

    from pytest_repro.lineage import write_lineage, verify_lineage

    write_lineage("out/lineage.json", inputs={"data": "data/train.csv"},
                  outputs={"weights": "out/model.pkl"}, seed=42)
    assert verify_lineage("out/lineage.json").passed

Names are imported lazily, so importing this package costs nothing until one is used.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

# Where a project's lineage manifest lies unless its settings say otherwise. Its home is
# here, not in `manifest`, so the plugin registers its options without loading a reader.
DEFAULT_LINEAGE = Path("artifacts/lineage.json")

_HOMES = {
    "sha256_file": "hashing",
    "sha256_bytes": "hashing",
    "file_digests": "hashing",
    "canonical_json": "atomic",
    "write_bytes_atomic": "atomic",
    "write_json_atomic": "atomic",
    "write_lineage": "writing",
    "Publication": "writing",
    "folds_record": "writing",
    "check_output_names": "output_names",
    "OutputNameError": "output_names",
    "read_lineage": "manifest",
    "entries": "manifest",
    "Entry": "manifest",
    "verify_lineage": "verify",
    "VerificationReport": "verify",
    "check": "checking",
    "sign_lineage": "signing",
    "verify_signature": "signing",
    "HmacKey": "signing",
    "Ed25519PrivateKey": "ed25519",
    "Ed25519PublicKey": "ed25519",
    "pin_dataset": "pins",
    "check_dataset_pin": "pins",
    "read_pinned_dataset": "pins",
    "registry_path": "pins",
    "load_model": "model_loading",
    "capture_environment": "environment",
    "code_version": "environment",
}

__all__ = sorted([*_HOMES, "DEFAULT_LINEAGE"])


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'pytest_repro.lineage' has no attribute {name!r}")
    return getattr(import_module(f"pytest_repro.lineage.{_HOMES[name]}"), name)
