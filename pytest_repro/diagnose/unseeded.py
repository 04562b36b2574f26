"""Find unseeded estimators that could explain a model difference: candidate causes, not verdicts.

An estimator whose ``random_state`` is None draws fresh randomness on every fit,
but many never draw any (an lbfgs LogisticRegression, a StandardScaler that takes
the parameter for API symmetry).  One whose solver ignores `random_state` is never
named (`RANDOMISED_SOLVERS`); any other unseeded estimator is named only when its
own parameters are equal in both runs and its fitted state still differs: then
randomness is a plausible reason, and the message says "candidate cause".  When
its parameters differ, that difference is the explanation and is already listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_repro.diagnose.estimators import fitted_attributes, is_estimator, params_of, structure_of
from pytest_repro.diagnose.model_walk import MAX_DEPTH, objects_differ
from pytest_repro.diagnose.rendering import capped, key_text

# Estimators whose `random_state` is read only by some solvers: with any other, it is no
# cause whatever its value (scikit-learn's documentation of each parameter).
RANDOMISED_SOLVERS = {
    "LogisticRegression": ("solver", {"sag", "saga", "liblinear"}),
    "LogisticRegressionCV": ("solver", {"sag", "saga", "liblinear"}),
    "Ridge": ("solver", {"sag", "saga"}),
    "RidgeClassifier": ("solver", {"sag", "saga"}),
    "LinearSVC": ("dual", {True, "auto"}),
}


def candidate_causes(np: Any, root: str, model_a: Any, model_b: Any, *, limit: int) -> list[str]:
    """Name each estimator unseeded in both runs whose fitted state differs while its parameters do not."""
    unseeded_a = dict(_find_unseeded(np, root, model_a))
    unseeded_b = dict(_find_unseeded(np, root, model_b))
    lines = []
    for path, estimator_a in unseeded_a.items():
        estimator_b = unseeded_b.get(path)
        if estimator_b is None or type(estimator_a) is not type(estimator_b):
            continue  # a structural difference, already reported by the walk
        if _only_fitted_state_differs(np, estimator_a, estimator_b):
            lines.append(f"candidate cause: {path} {type(estimator_a).__name__} has random_state=None")
    return capped(lines, limit, "more candidate causes")


def ignores_random_state(estimator: Any, params: dict[str, Any]) -> bool:
    """Whether the estimator's configuration never reads `random_state` (an lbfgs LogisticRegression)."""
    rule = RANDOMISED_SOLVERS.get(type(estimator).__name__)
    if rule is None:
        return False
    parameter, randomised = rule
    value = params.get(parameter)
    try:
        return value not in randomised
    except TypeError:  # an unhashable value: not one we know
        return False


def _only_fitted_state_differs(np: Any, a: Any, b: Any) -> bool:
    """Return whether two estimators have equal parameters but different fitted attributes."""
    structure = structure_of(a)
    skip = structure.params if structure else frozenset()
    params_a = {k: v for k, v in (params_of(a) or {}).items() if k not in skip}
    params_b = {k: v for k, v in (params_of(b) or {}).items() if k not in skip}
    if objects_differ(np, params_a, params_b):
        return False
    return objects_differ(np, fitted_attributes(a), fitted_attributes(b))


def _find_unseeded(np: Any, root: str, model: Any) -> Iterator[tuple[str, Any]]:
    """Yield (path, estimator) for every estimator whose ``random_state`` is None, in walk order."""
    seen: set[int] = set()

    def visit(path: str, value: Any, depth: int) -> Iterator[tuple[str, Any]]:
        if depth > MAX_DEPTH or id(value) in seen:
            return
        if is_estimator(value):
            seen.add(id(value))
            params = params_of(value)
            if params is None:
                return
            if "random_state" in params:
                if params["random_state"] is None and not ignores_random_state(value, params):
                    yield path, value
                # An estimator with its own random_state seeds the clones it fits (forests,
                # bagging, boosting), so its sub-estimators' None is not a separate cause.
                return
            yield from children(path, value, params, depth)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                yield from visit(f"{path}[{index}]", item, depth + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from visit(f"{path}[{key_text(key)}]", item, depth + 1)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "O":
            for index in np.ndindex(value.shape):
                yield from visit(f"{path}[{', '.join(map(str, index))}]", value[index], depth + 1)

    def children(path: str, estimator: Any, params: dict[str, Any], depth: int) -> Iterator[tuple[str, Any]]:
        # The same paths as the walk's, so that a candidate cause points at lines above it.
        structure = structure_of(estimator)
        if structure is not None:
            for item in getattr(estimator, structure.source, None) or []:
                if isinstance(item, tuple) and len(item) >= 2:
                    yield from visit(f"{path}.{structure.accessor}[{key_text(item[0])}]", item[1], depth + 1)
        skip = structure.params if structure else frozenset()
        for key, item in params.items():
            if key not in skip:
                yield from visit(f"{path}.get_params()[{key_text(key)}]", item, depth + 1)
        skip = structure.attributes if structure else frozenset()
        for key, item in fitted_attributes(estimator, skip).items():
            yield from visit(f"{path}.{key}", item, depth + 1)

    yield from visit(root, model, 0)
