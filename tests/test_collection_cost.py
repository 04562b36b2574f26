"""Collecting this checkout's tests imports no training library.

Every `pytest --repro` in this checkout collects the whole suite while the twins
train, on the same cores: a test module that imports scikit-learn, pandas, LightGBM or
MLflow when it is collected made that cost 4 s of CPU instead of under 1 s.  Such
imports belong inside the tests (or behind `importlib.util.find_spec` for a skip).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# A second of collection in a subprocess: the slow run (and so CI) keeps the guard.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "pandas", "scipy", "lightgbm", "xgboost", "mlflow", "training.fit")

COLLECT = f"""
import json, sys
import pytest
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"])
print(json.dumps({{"code": int(code), "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def test_collecting_the_suite_imports_no_training_library():
    result = subprocess.run(
        [sys.executable, "-c", COLLECT], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["code"] == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert found["heavy"] == [], f"collecting the suite imported {found['heavy']}"
