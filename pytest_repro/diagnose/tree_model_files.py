"""Compare two saved LightGBM, XGBoost or CatBoost model files: bytes first, then tree by tree.

The files are read by boosters.read_tree_model (LightGBM's text, XGBoost's JSON or
UBJSON, CatBoost's JSON or .cbm) and compared by the model walk's tree comparison, so
a booster saved on its own reads like one found inside a pickled Pipeline.  When a file
cannot be read, the byte diagnosis is returned with one line saying why.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from pytest_repro.diagnose.boosters import read_tree_model
from pytest_repro.diagnose.bytes_diff import PathLike, files_to_open
from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.json_diff import diff_json_files


def diff_tree_model_files(
    path_a: PathLike, path_b: PathLike, *, name: str, max_paths: int = 8
) -> Difference | None:
    """Compare two tree-model files; None when their bytes are equal."""
    opened = files_to_open(path_a, path_b, name)
    if opened is None or isinstance(opened, Difference):
        return opened
    summary, what, byte_details = opened
    shown = Path(path_a).name
    ensemble_a, ensemble_b = read_tree_model(Path(path_a)), read_tree_model(Path(path_b))
    for run, unread in (("a", ensemble_a), ("b", ensemble_b)):
        if isinstance(unread, str):
            note = f"not read as a tree model in run {run}: {unread}"
            # JSON that only began like a model is still JSON: compared leaf by leaf.
            as_json = diff_json_files(name, path_a, path_b) if _both_json(path_a, path_b) else None
            if as_json is not None:
                return Difference(name, as_json.summary, (note, *as_json.details))
            return Difference(name, summary, (note, *byte_details))
    assert not isinstance(ensemble_a, str) and not isinstance(ensemble_b, str)
    try:
        import numpy
    except ImportError:
        return Difference(
            name, summary, ('numpy is not installed (pip install "pytest-repro[sklearn]")', *byte_details)
        )
    from pytest_repro.diagnose.model_walk import Stop, Walker

    walker = Walker(numpy, max_paths)
    with contextlib.suppress(Stop):  # the walker already noted that more paths differ
        walker.compare_ensembles(name, ensemble_a, ensemble_b)
    library = ensemble_a.library
    bytes_line = f"bytes: {what}"
    if not walker.count:
        return Difference(
            name,
            f"{shown} differs: the {library} model reads the same (trees, values, parameters); "
            "its text differs only in formatting",
            (bytes_line, *byte_details),
        )
    count = f"at least {walker.count}" if walker.truncated else str(walker.count)
    more = (f"(stopped after {walker.count} differing paths; more differ)",) if walker.truncated else ()
    return Difference(
        name,
        f"{shown} differs: {count} {'difference' if count == '1' else 'differences'} in the {library} model",
        (*walker.lines, *more, bytes_line, *byte_details),
    )


def _both_json(*paths: PathLike) -> bool:
    try:
        for path in paths:
            json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True
