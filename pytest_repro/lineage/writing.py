"""Write a lineage manifest for any training: the public way to record what a run read and wrote.

Two ways, for two shapes of training:

- `write_lineage(path, inputs=..., outputs=...)` for a training that has already
  written its outputs: every file is hashed now, streamed, and the manifest (and its
  signature, when a key is configured) is published atomically beside them.
- `Publication(folder)` for a training that wants its outputs and their lineage to
  appear all together or not at all: stage each output, then `finish()` hashes the
  staged bytes (exactly what will be published), writes the manifest last, and renames
  everything into place through a journal, under a lock on the folder.

An input may be given as `(path, sha256)` when the training hashed the very bytes it
parsed (the safe way: a file swapped after reading cannot be recorded in its place).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from pytest_repro.errors import ArtifactError
from pytest_repro.lineage.atomic import canonical_json, write_bytes_atomic
from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
from pytest_repro.lineage.manifest import build_lineage, project_root_for
from pytest_repro.lineage.output_names import OutputNameError, check_output_names, name_problem
from pytest_repro.lineage.publish import (
    StagedCommit,
    output_lock,
    prepare_output_dir,
    recover_interrupted_commit,
    remove_stale_staging,
)
from pytest_repro.lineage.signing import Keys, envelope_bytes, envelope_path, key_from_env, signing_keys

# A file to hash, or (file, SHA-256 of the bytes the training actually read).
InputFile = str | os.PathLike | tuple[str | os.PathLike, str]
Writer = Callable[[BinaryIO], None]
_UNSET: Any = object()


def folds_record(folds: Sequence[Sequence[int]] | None) -> dict[str, Any] | None:
    """Return the manifest's `cv_folds` record: the fold count and the SHA-256 of the test rows per fold."""
    if folds is None:
        return None
    rows = [[int(row) for row in fold] for fold in folds]
    return {"n_splits": len(rows), "sha256": sha256_bytes(canonical_json(rows))}


def write_lineage(
    path: str | os.PathLike[str],
    *,
    inputs: Mapping[str, InputFile],
    outputs: Mapping[str, str | os.PathLike[str]],
    seed: int | None = None,
    folds: Sequence[Sequence[int]] | None = None,
    root: str | os.PathLike[str] | None = None,
    environment: Mapping[str, Any] | None = None,
    code: Mapping[str, Any] | None = _UNSET,
    mirror: Sequence[str] = (),
    signing_key: Keys | None = _UNSET,
) -> Path:
    """Hash `inputs` and `outputs` (name -> file) and publish their manifest at `path`; return `path`.

    `root` (default: the deepest folder holding the manifest and every file) is what the
    recorded paths are relative to.  `environment` and `code` default to the captured
    interpreter, libraries and git commit; `signing_key` to the keys the environment
    configures (REPRO_SIGNING_KEY, REPRO_PRIVATE_KEY), with which a DSSE envelope is
    written beside the manifest; a public key alone signs nothing.  `mirror` repeats the named
    entries at the top level, for readers of the design document's layout.
    """
    path = Path(path).absolute()
    files = {**_input_paths(inputs), **{name: Path(p).absolute() for name, p in outputs.items()}}
    hashes = {**_input_hashes(inputs), **{name: _hash(files[name], name) for name in outputs}}
    manifest = _manifest(path, inputs, outputs, files, hashes, seed, folds, root, environment, code, mirror)
    key = _signers(signing_key)
    if key is None:
        # One file: an atomic rename is enough, and no journal is shared with other
        # writers of the same folder (concurrent runs recording lineages side by side).
        write_bytes_atomic(path, canonical_json(manifest))
    else:
        with StagedCommit(path.parent) as commit:
            _stage_lineage(commit, path, canonical_json(manifest), key)
    _drop_stale_envelope(path, key)
    return path


class Publication:
    """Stage a run's outputs in `folder`, then publish them and their lineage together.

    Use as a context manager; outputs staged inside the block appear only when
    `finish()` ran and the block completes.  On any exception nothing is published and
    the previous files stay as they were.  A second training into the same folder stops
    at once (a lock), and a commit cut short by a crash is rolled forward first.
    """

    def __init__(self, folder: str | os.PathLike[str], *, signing_key: Keys | None = _UNSET):
        self.folder = prepare_output_dir(Path(folder).absolute())
        # Read before any work: a malformed key is a configuration error, not a late failure.
        self.signing_key = _signers(signing_key)
        self._outputs: dict[str, Path] = {}
        self._staged: dict[str, Path] = {}
        self._lineage_path: Path | None = None
        # Files an interrupted earlier commit published on entry, for the caller to report.
        self.recovered: tuple[str, ...] = ()

    def __enter__(self) -> Publication:
        self._lock = output_lock(self.folder)
        self._lock.__enter__()
        try:
            self.recovered = recover_interrupted_commit(self.folder)
            remove_stale_staging(self.folder)
            self._commit = StagedCommit(self.folder).__enter__()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def add(self, name: str, file_name: str, content: bytes | Writer) -> Path:
        """Stage output `name` as `file_name` in the folder (bytes, or a writer given a binary handle)."""
        if name in self._outputs:
            raise ArtifactError(f"{self.folder}: output {name!r} staged twice")
        problem = name_problem(file_name)
        if problem is not None:
            raise OutputNameError(name, file_name, problem)
        writer = content if callable(content) else _bytes_writer(content)
        self._staged[name] = self._commit.stage(file_name, writer)
        self._outputs[name] = self.folder / file_name
        return self._outputs[name]

    def finish(
        self,
        lineage_file: str,
        *,
        inputs: Mapping[str, InputFile],
        seed: int | None = None,
        folds: Sequence[Sequence[int]] | None = None,
        root: str | os.PathLike[str] | None = None,
        environment: Mapping[str, Any] | None = None,
        code: Mapping[str, Any] | None = _UNSET,
        mirror: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Hash the staged outputs, stage their manifest (and envelope) last; return the manifest."""
        path = self.folder / lineage_file
        names = {name: file.name for name, file in self._outputs.items()}
        check_output_names(self.folder, names, lineage_file=lineage_file, inputs=_input_paths(inputs))
        files = {**_input_paths(inputs), **self._outputs}
        hashes = {**_input_hashes(inputs), **{n: sha256_file(p) for n, p in self._staged.items()}}
        manifest = _manifest(
            path, inputs, self._outputs, files, hashes, seed, folds, root, environment, code, mirror
        )
        _stage_lineage(self._commit, path, canonical_json(manifest), self.signing_key)
        self._lineage_path = path
        return manifest

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None and self._lineage_path is None:
                self._commit.__exit__(ArtifactError, None, None)  # discards the staged files
                raise ArtifactError(f"{self.folder}: publication ended without finish(); nothing published")
            self._commit.__exit__(exc_type, exc, tb)
            if exc_type is None and self._lineage_path is not None:
                _drop_stale_envelope(self._lineage_path, self.signing_key)
        finally:
            self._lock.__exit__(None, None, None)


def _manifest(
    path: Path,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
    files: Mapping[str, Path],
    hashes: Mapping[str, str],
    seed: int | None,
    folds: Sequence[Sequence[int]] | None,
    root: Any,
    environment: Mapping[str, Any] | None,
    code: Any,
    mirror: Sequence[str],
) -> dict[str, Any]:
    from pytest_repro.lineage.environment import capture_environment, code_version

    root_path = Path(root).absolute() if root is not None else project_root_for(path.parent, *_folders(files))
    for name, file in files.items():
        if not file.resolve().is_relative_to(root_path.resolve()):
            raise ArtifactError(f"{file}: lineage entry {name!r} lies outside the root {root_path}")
    return build_lineage(
        lineage_path=path,
        root=root_path,
        inputs={name: files[name] for name in inputs},
        outputs={name: files[name] for name in outputs},
        hashes=hashes,
        seed=seed,
        folds=folds_record(folds),
        environment=capture_environment() if environment is None else environment,
        code=code_version(root_path) if code is _UNSET else code,
        mirror=mirror,
    )


def _folders(files: Mapping[str, Path]) -> list[Path]:
    return [file.parent for file in files.values()]


def _input_paths(inputs: Mapping[str, InputFile]) -> dict[str, Path]:
    return {
        name: Path(value[0] if isinstance(value, tuple) else value).absolute()
        for name, value in inputs.items()
    }


def _input_hashes(inputs: Mapping[str, InputFile]) -> dict[str, str]:
    hashes = {}
    for name, value in inputs.items():
        if isinstance(value, tuple):
            hashes[name] = value[1]
        else:
            hashes[name] = _hash(Path(value), name)
    return hashes


def _hash(path: Path, name: str) -> str:
    try:
        return sha256_file(path)
    except FileNotFoundError:
        raise ArtifactError(f"{path}: lineage entry {name!r}: file not found") from None
    except IsADirectoryError:
        raise ArtifactError(f"{path}: lineage entry {name!r}: is a folder, not a file") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: lineage entry {name!r}: cannot read ({exc.strerror})") from None


def _signers(signing_key: Any) -> tuple[Any, ...] | None:
    """Return the keys that sign (the environment's when none is given), or None for an unsigned lineage."""
    return signing_keys(key_from_env() if signing_key is _UNSET else signing_key) or None


def _stage_lineage(commit: StagedCommit, path: Path, lineage: bytes, key: Keys | None) -> None:
    """Stage the envelope before the manifest, so the manifest is renamed into place last."""
    if key is not None:
        commit.stage(envelope_path(path).name, _bytes_writer(envelope_bytes(lineage, key)))
    commit.stage(path.name, _bytes_writer(lineage))


def _drop_stale_envelope(path: Path, key: Keys | None) -> None:
    # An envelope left by an earlier signed run no longer matches; removed after the
    # commit, so until then a check fails rather than passing unsigned.
    if key is None:
        envelope_path(path).unlink(missing_ok=True)


def _bytes_writer(data: bytes) -> Writer:
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write
