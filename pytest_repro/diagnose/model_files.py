"""Compare two saved models: their bytes first, then, when both load, the fitted objects path by path.

Loading needs joblib and numpy (the ``pytest-repro[sklearn]`` extra) and the modules
the pickles refer to.  A training process finds a project's own modules through
the launcher's PYTHONPATH (the working directory, then ``sys.path``), so the load
puts the same directories first on ``sys.path`` while it runs.  Whenever the models
cannot be loaded, the byte diagnosis is returned with one line saying why.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pytest_repro.diagnose.bytes_diff import PathLike, files_to_open
from pytest_repro.diagnose.content_kind import MODEL_SUFFIXES
from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.model_diff import compare_models

INSTALL_HINT = 'pip install "pytest-repro[sklearn]"'
_PICKLE_CAUSE = "e.g. a set or dict ordering or a RandomState object"


def diff_model_files(
    path_a: PathLike,
    path_b: PathLike,
    *,
    name: str | None = None,
    max_paths: int = 8,
    import_paths: Iterable[PathLike] = (),
) -> Difference | None:
    """Compare two model files: bytes first, then the loaded objects path by path.

    `name` is the artifact's name: the subject of the difference and the root of its
    attribute paths (the file's name without its suffix when not given).  The summary
    names the file.  `import_paths` are made importable for the load after the
    working directory, as they are in a training process (the pytest rootdir, say).
    """
    shown = Path(path_a).name
    subject = name or shown
    root = name or walk_root(shown)
    opened = files_to_open(path_a, path_b, subject)
    if opened is None or isinstance(opened, Difference):
        return opened
    summary, what, byte_details = opened

    loaded = load_models(path_a, path_b, [os.getcwd(), *import_paths])
    if isinstance(loaded, str):
        return Difference(subject, summary, (f"not loaded as a model: {loaded}", *byte_details))
    report = compare_models(*loaded, max_paths=max_paths, root=root)
    bytes_line = f"bytes: {what}"
    if not report.count:
        return Difference(
            subject,
            f"{shown} differs: objects equal; the pickled bytes differ, {_PICKLE_CAUSE}",
            (bytes_line, *byte_details),
        )
    count = f"at least {report.count}" if report.truncated else str(report.count)
    plural = "path differs" if report.count == 1 and not report.truncated else "paths differ"
    return Difference(
        subject, f"{shown} differs: {count} attribute {plural}", (*report.lines(), bytes_line, *byte_details)
    )


def walk_root(file_name: str) -> str:
    """Return the root of attribute paths for a model file: its name without a model suffix."""
    for suffix in MODEL_SUFFIXES:
        if file_name.lower().endswith(suffix) and len(file_name) > len(suffix):
            return file_name[: -len(suffix)]
    return file_name


def load_models(
    path_a: PathLike, path_b: PathLike, import_paths: Iterable[PathLike]
) -> tuple[Any, Any] | str:
    """Load both files with joblib, `import_paths` importable; or return one line saying why not."""
    try:
        import joblib
        import numpy  # noqa: F401  (the walk needs it; fail here, with the install hint)
    except ImportError as error:
        return f"{error.name or 'joblib'} is not installed ({INSTALL_HINT})"
    loaded = []
    with importable(import_paths):
        for run, path in (("a", path_a), ("b", path_b)):
            # Both files are fresh outputs of the user's own training, so unpickling them is safe.
            try:
                loaded.append(joblib.load(path))
            except Exception as error:
                return f"joblib could not load run {run}: {type(error).__name__}: {error}"
    return loaded[0], loaded[1]


@contextlib.contextmanager
def importable(directories: Iterable[PathLike]) -> Iterator[None]:
    """Put `directories` first on ``sys.path`` (those not already on it) until the block ends."""
    added = [entry for entry in dict.fromkeys(os.fspath(d) for d in directories) if entry not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
