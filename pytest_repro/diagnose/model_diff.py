"""Compare two fitted models in memory: the differing attribute paths first, then candidate causes.

The first line always names the first attribute path that differs, because that is
the fact; an unseeded estimator is only a possible explanation and comes after the
paths, labelled "candidate cause" (see unseeded.py for when one is named).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pytest_repro.diagnose.model_walk import Stop, Walker
from pytest_repro.diagnose.unseeded import candidate_causes

# Paths are written from this root unless the caller names the artifact.
DEFAULT_ROOT = "model"


@dataclass(frozen=True)
class ModelReport:
    """The differing paths of two models, how many were found, and the candidate causes."""

    paths: tuple[str, ...]
    count: int
    truncated: bool
    causes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Return the paths, a note when the walk stopped early, then the candidate causes."""
        if not self.count:
            return []
        note = (f"(stopped after {self.count} differing paths; more differ)",)
        return [*self.paths, *(note if self.truncated else ()), *self.causes]


def diff_models(model_a: Any, model_b: Any, *, max_paths: int = 8, root: str = DEFAULT_ROOT) -> list[str]:
    """Walk two fitted estimators in parallel and describe the attribute paths that differ.

    Returns an empty list when the objects are structurally equal. Otherwise the lines
    are the first `max_paths` differing paths, written from `root`, e.g.
    ``model.estimators_[3].tree_.threshold: 17 of 255 elements differ, max |Δ| 0.42 ...``,
    followed by the unseeded estimators whose own fitted state differs, e.g.
    ``candidate cause: model.named_steps['forest'] RandomForestClassifier has random_state=None``.
    """
    return compare_models(model_a, model_b, max_paths=max_paths, root=root).lines()


def compare_models(
    model_a: Any, model_b: Any, *, max_paths: int, root: str = DEFAULT_ROOT, ignored: Collection[str] = ()
) -> ModelReport:
    """Walk two models (numpy must be installed) and return what differs and the candidate causes.

    Parameters named in `ignored` (under any library's name for them) are left out.
    """
    if max_paths < 1:
        raise ValueError(f"max_paths must be a positive integer, got {max_paths!r}")
    import numpy

    walker = Walker(numpy, max_paths, ignored)
    with contextlib.suppress(Stop):  # the walker already recorded that more paths differ
        walker.compare(root, model_a, model_b, 0)
    if not walker.count:
        return ModelReport((), 0, False)
    try:
        causes = candidate_causes(numpy, root, model_a, model_b, limit=max_paths)
    except Exception:  # naming a possible cause is a bonus; never let it break the report
        causes = []
    return ModelReport(tuple(walker.lines), walker.count, walker.truncated, tuple(causes))
