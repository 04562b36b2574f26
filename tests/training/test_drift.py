"""The drift baseline: the right statistics, in a fixed order, as plain JSON-ready values."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from training.drift import QUANTILES, drift_baseline


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "minutes": [1.0, 2.0, np.nan, 3.0, 4.0],
            "days": pd.array([5, 0, 2, None, 7], dtype="Int64"),
            "country": ["US", "DE", None, "US", "IN"],
        }
    )


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return value is None or type(value) in (int, float, bool, str)


def test_numeric_summary_ignores_missing_values():
    stats = drift_baseline(_frame(), ["minutes"], [])["numeric"]["minutes"]
    assert stats["count"] == 4
    assert stats["missing_rate"] == pytest.approx(0.2)
    assert stats["mean"] == pytest.approx(2.5)
    assert stats["std"] == pytest.approx(np.std([1.0, 2.0, 3.0, 4.0]))
    assert (stats["min"], stats["max"]) == (1.0, 4.0)
    assert stats["q50"] == pytest.approx(2.5)
    assert stats["q25"] == pytest.approx(1.75)


def test_numeric_summary_lists_quantiles_with_two_digit_keys_in_order():
    stats = drift_baseline(_frame(), ["minutes"], [])["numeric"]["minutes"]
    keys = [key for key in stats if key.startswith("q")]
    assert keys == ["q01", "q05", "q25", "q50", "q75", "q95", "q99"]
    assert [key for key, _ in QUANTILES] == keys
    levels = [stats[key] for key in keys]
    assert levels == sorted(levels)


def test_nullable_integer_columns_are_summarised_like_floats():
    stats = drift_baseline(_frame(), ["days"], [])["numeric"]["days"]
    assert stats["count"] == 4
    assert stats["mean"] == pytest.approx(3.5)


def test_all_missing_numeric_feature_has_no_statistics_but_a_missing_rate_of_one():
    frame = pd.DataFrame({"empty": [np.nan, np.nan]})
    stats = drift_baseline(frame, ["empty"], [])["numeric"]["empty"]
    assert stats["count"] == 0
    assert stats["missing_rate"] == 1.0
    assert stats["mean"] is None and stats["q99"] is None


def test_categorical_frequencies_are_sorted_fractions_of_observed_values():
    stats = drift_baseline(_frame(), [], ["country"])["categorical"]["country"]
    assert list(stats["frequencies"]) == ["DE", "IN", "US"]
    assert stats["frequencies"] == pytest.approx({"DE": 0.25, "IN": 0.25, "US": 0.5})
    assert stats["missing_rate"] == pytest.approx(0.2)
    assert stats["count"] == 4


def test_features_appear_in_the_order_given():
    baseline = drift_baseline(_frame(), ["minutes", "days"], ["country"])
    assert list(baseline["numeric"]) == ["minutes", "days"]
    assert list(drift_baseline(_frame(), ["days", "minutes"], [])["numeric"]) == ["days", "minutes"]
    assert baseline["n_rows"] == 5


def test_baseline_is_deterministic():
    first = drift_baseline(_frame(), ["minutes", "days"], ["country"])
    second = drift_baseline(_frame(), ["minutes", "days"], ["country"])
    assert json.dumps(first) == json.dumps(second)


def test_baseline_is_json_serialisable_with_plain_python_types():
    baseline = drift_baseline(_frame(), ["minutes", "days"], ["country"])
    assert _plain(baseline)
    assert json.loads(json.dumps(baseline, allow_nan=False)) == baseline


def test_unknown_feature_names_are_reported():
    with pytest.raises(ValueError, match="nope"):
        drift_baseline(_frame(), ["nope"], [])


def test_input_frame_is_left_unchanged():
    frame = _frame()
    before = frame.copy(deep=True)
    drift_baseline(frame, ["minutes", "days"], ["country"])
    pd.testing.assert_frame_equal(frame, before)
