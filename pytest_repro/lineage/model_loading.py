"""Load a trained model only after its bytes match the lineage: unpickling is running code.

`joblib.load` executes whatever a pickle tells it to, so a model file is trusted only
when it is an output the lineage records (whatever its name: `model`, `weights`, ...),
its SHA-256 equals the recorded one, and (when a key is configured) the lineage's
signature verifies.  Nothing is unpickled before all three hold.

Hash-then-load race: the file is copied once into a private temporary folder, the copy
is hashed, and that same copy is loaded (`pytest_repro.lineage.verified_copy`).
Re-checking `os.fstat` size and mtime on one open descriptor would miss an in-place
rewrite that keeps the size and resets the mtime (any owner can set mtime), and reading
the whole file into memory costs the model's size in RAM on top of the unpickled model.
The copy costs one extra write of the file, in the temporary folder (`TMPDIR`).

A commit that a killed training left half-applied is finished first, under the
folder's lock (a model is loaded where it was published, so this is its reader's
job, not a check's), and an `InterruptedCommitFinished` warning names what it renamed.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

from pytest_repro.errors import ArtifactError, LineageError
from pytest_repro.lineage.manifest import OUTPUT, entries, parse_lineage
from pytest_repro.lineage.publish import journal_pending, output_lock, recover_interrupted_commit
from pytest_repro.lineage.signing import Keys, key_from_env, require_from_env, verify_signature
from pytest_repro.lineage.verified_copy import copy_and_hash
from pytest_repro.lineage.verify import lineage_root, resolve_entry


def load_model(
    model_path: str | Path,
    lineage_path: str | Path,
    *,
    signing_key: Keys | None = None,
    require_signature: bool | None = None,
    project_root: Path | None = None,
) -> Any:
    """Return the estimator in `model_path` after checking it against `lineage_path`; unpickle nothing otherwise.

    `signing_key` and `require_signature` default to the environment's keys (REPRO_SIGNING_KEY, REPRO_PUBLIC_KEY, ...) and
    REPRO_REQUIRE_SIGNATURE.  Raises LineageError (SignatureError for the envelope)
    naming the file and, for a hash mismatch, both hashes.
    """
    model_path, lineage_path = Path(model_path), Path(lineage_path)
    finish_interrupted_commit(lineage_path.parent)
    key = key_from_env() if signing_key is None else signing_key
    required = require_from_env() if require_signature is None else require_signature
    signature = verify_signature(lineage_path, key, required)
    lineage = parse_lineage(signature.lineage_bytes, lineage_path)
    root = lineage_root(lineage, lineage_path, project_root)
    entry, recorded = _recorded_output(lineage, root, model_path, lineage_path)
    with tempfile.TemporaryDirectory(prefix="repro-model-") as private:
        copy = Path(private) / "model.joblib"
        actual = copy_and_hash(recorded, copy, shown=model_path, what="model")
        if actual != entry.sha256:
            raise LineageError(
                f"{model_path}: SHA-256 is {actual} but {lineage_path} records {entry.sha256} "
                f"for {entry.name}; refusing to unpickle it"
            )
        import joblib

        # No mmap_mode: everything is read into memory before the private copy is removed.
        return joblib.load(copy)


class InterruptedCommitFinished(UserWarning):
    """load_model finished publishing files that a killed training had left half-renamed."""


def finish_interrupted_commit(folder: Path) -> tuple[str, ...]:
    """Roll a pending commit journal in `folder` forward under its lock; warn naming what was renamed."""
    if not journal_pending(folder):
        return ()
    try:
        with output_lock(folder):
            finished = recover_interrupted_commit(folder)
    except ArtifactError as error:  # a training holds the lock, or the journal is not one of ours
        raise LineageError(str(error)) from None
    if finished:
        warnings.warn(
            InterruptedCommitFinished(
                f"{folder}: finished an interrupted commit before loading: published {', '.join(finished)}"
            ),
            stacklevel=3,
        )
    return finished


def _recorded_output(
    lineage: dict[str, Any], root: Path, model_path: Path, lineage_path: Path
) -> tuple[Any, Path]:
    """Return the output entry whose recorded path is `model_path`, and that path resolved inside the root."""
    outputs = [item for item in entries(lineage, lineage_path) if item.role == OUTPUT]
    wanted = model_path.resolve()
    for item in outputs:
        recorded = resolve_entry(root, item.path, name=item.name, lineage_path=lineage_path)
        if recorded == wanted:
            return item, recorded
    listed = ", ".join(f"{item.name} ({item.path!r})" for item in outputs) or "none"
    raise LineageError(
        f"{model_path}: is not an output {lineage_path} records (outputs: {listed}); refusing to load it"
    )
