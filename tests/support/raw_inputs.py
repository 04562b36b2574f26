"""Small synthetic input frames with the dataset's columns, for the modelling unit tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.synthetic_data import col


def raw_inputs(
    n: int,
    seed: int = 0,
    *,
    missing_minutes_every: int = 0,
    missing_country_every: int = 0,
    shuffled_index: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return input columns and a target that depends on minutes watched, with optional gaps.

    A shuffled, non-positional index catches label-based selection by mistake.
    """
    rng = np.random.default_rng(seed)
    minutes = rng.exponential(200.0, n)
    index = rng.permutation(np.arange(1000, 1000 + n)) if shuffled_index else None
    frame = pd.DataFrame(
        {
            col.COUNTRY: rng.choice(["DE", "IN", "US"], n),
            col.DAYS_ON_PLATFORM: rng.integers(0, 100, n),
            col.MINUTES_WATCHED: minutes,
            col.COURSES_STARTED: rng.integers(0, 5, n),
            col.EXAMS_STARTED: rng.integers(0, 6, n),
            col.EXAMS_PASSED: rng.integers(0, 3, n),
            col.MINUTES_ON_EXAMS: rng.exponential(20.0, n),
        },
        index=index,
    )
    if missing_minutes_every:
        frame.loc[frame.index[::missing_minutes_every], col.MINUTES_WATCHED] = np.nan
    if missing_country_every:
        frame.loc[frame.index[::missing_country_every], col.COUNTRY] = np.nan  # missing, in pandas 2 and 3
    target = (minutes + rng.normal(0, 100, n) > 200).astype(int)
    return frame, target
