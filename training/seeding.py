"""Seed the global random generators, for code that draws from them without a random_state."""

from __future__ import annotations

import random

import numpy as np


def set_global_seed(seed: int) -> None:
    """Seed `random` and the legacy `numpy.random` state so unseeded draws repeat run to run.

    Every estimator and split also gets an explicit `random_state`; this is the safety
    net for library code that falls back to the global generators.  `seed` must lie in
    [0, 2**32 - 1], the range numpy accepts (the config schema enforces the same bound).
    """
    random.seed(seed)
    np.random.seed(seed)
