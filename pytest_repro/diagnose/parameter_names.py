"""The names under which libraries store a parameter that a variation or the seed probe sets on purpose.

A run with `REPRO_N_JOBS=2` stores `n_jobs=2` in a scikit-learn estimator, but LightGBM
also records it as `num_threads` in its model, XGBoost as `nthread`, CatBoost as
`thread_count`; scikit-learn keeps the threads it used as `_n_threads`.  A seed shows
through as `random_state`, LightGBM's `seed` and the seeds it derives from it.  Those
are the inputs showing through, not something learned; a comparison that is told to
leave out `n_jobs` leaves out every name here that means it, and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection

# The sklearn-level name -> every name a library stores it under (compared without leading underscores).
ALIASES: dict[str, frozenset[str]] = {
    "n_jobs": frozenset(
        {"n_jobs", "n_threads", "num_threads", "num_thread", "nthread", "nthreads", "thread_count"}
    ),
    "random_state": frozenset(
        {
            "random_state",
            "seed",
            "random_seed",
            # LightGBM derives one seed per random choice from `seed` and records each.
            "bagging_seed",
            "feature_fraction_seed",
            "data_random_seed",
            "drop_seed",
            "extra_seed",
            "objective_seed",
        }
    ),
}


def canonical_parameter(name: str) -> str:
    """The sklearn-level name of a stored parameter: `_n_threads` and `system_options.thread_count` are `n_jobs`."""
    last = name.rsplit("__", 1)[-1].rsplit(".", 1)[-1].lstrip("_").lower()
    for canonical, names in ALIASES.items():
        if last in names:
            return canonical
    return last


def is_ignored(name: str, ignored: Collection[str]) -> bool:
    """Whether a stored parameter is one of the `ignored` ones, under any of its names."""
    return bool(ignored) and canonical_parameter(name) in ignored
