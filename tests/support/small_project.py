"""A small trainable copy of this project: a cheap config beside a pinned slice of the data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pytest_repro.lineage.pins import pin_dataset

REPO = Path(__file__).resolve().parents[2]
DATASET = "ml_datasource.csv"
ONE_TREE = {"decision_tree": {"max_depth": 4, "min_samples_leaf": 10}}


def write_small_project(
    root: Path, *, rows: int = 600, models: dict[str, Any] | None = None, n_splits: int = 2
) -> Path:
    """Write config.yaml (the shipped one with `models` and `cv.n_splits` replaced) and the
    first `rows` rows of the bundled dataset, pinned, so `python -m training` runs in seconds."""
    root.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["models"] = dict(models or ONE_TREE)
    config["cv"]["n_splits"] = n_splits
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    with (REPO / DATASET).open(encoding="utf-8", newline="") as source:
        lines = [line for _, line in zip(range(rows + 1), source, strict=False)]
    (root / DATASET).write_text("".join(lines), encoding="utf-8", newline="")
    pin_dataset(root / DATASET)
    return root
