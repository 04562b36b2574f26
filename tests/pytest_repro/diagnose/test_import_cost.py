"""Importing the diagnosis package costs only the standard library: numpy and joblib load with a model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_importing_every_diagnose_module_does_not_import_numpy_sklearn_or_joblib():
    code = (
        "import pkgutil, importlib, sys, pytest_repro.diagnose as package; "
        "[importlib.import_module(f'pytest_repro.diagnose.{m.name}') for m in pkgutil.iter_modules(package.__path__)]; "
        "print(sorted(m for m in ('numpy', 'sklearn', 'joblib', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
