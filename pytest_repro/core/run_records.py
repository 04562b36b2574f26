"""What to train (`RunRequest`) and what one finished training left (`RunRecord`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunRecord:
    """One finished training: where its artifacts are, their hashes, its folds and metrics."""

    label: str
    output_dir: Path
    artifacts: dict[str, Path]
    hashes: dict[str, str]
    folds: list[list[int]] | None
    metrics: dict[str, Any] | None  # None: unknown (a recorded run that kept no file of them)
    lineage: Path | None
    seconds: float
    environment: dict[str, str] = field(default_factory=dict)
    # The contract variables (REPRO_N_JOBS, REPRO_ROW_ORDER_SEED) the training read; None when unknown.
    variables_read: tuple[str, ...] | None = None
    # What the run's Python processes recorded (run_site's recorder), by kind; None when not recorded.
    events: dict[str, list[dict[str, Any]]] | None = None
    # The SHA-256 of the folds when only that is known: a recorded run's lineage keeps no rows.
    folds_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "output_dir": str(self.output_dir),
            "artifacts": {k: str(v) for k, v in self.artifacts.items()},
            "hashes": self.hashes,
            "folds": self.folds,
            "metrics": self.metrics,
            "lineage": str(self.lineage) if self.lineage else None,
            "seconds": self.seconds,
            "environment": self.environment,
            "variables_read": list(self.variables_read) if self.variables_read is not None else None,
            "events": self.events,
            "folds_sha256": self.folds_sha256,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        return cls(
            label=data["label"],
            output_dir=Path(data["output_dir"]),
            artifacts={k: Path(v) for k, v in data["artifacts"].items()},
            hashes=dict(data["hashes"]),
            folds=data["folds"],
            metrics=data["metrics"],
            lineage=Path(data["lineage"]) if data["lineage"] else None,
            seconds=data["seconds"],
            environment=dict(data.get("environment") or {}),
            variables_read=tuple(data["variables_read"]) if data.get("variables_read") is not None else None,
            events=data.get("events"),
            folds_sha256=data.get("folds_sha256"),
        )


@dataclass(frozen=True)
class RunRequest:
    """What to train: the entry point, the config, and an optional seed and overrides."""

    entry: str
    config_path: Path
    seed: int | None = None
    overrides: Mapping[str, Any] | None = None
    command: Any = None  # a running.command_training.CommandTraining, for a command line training
    timeout: float | None = None  # seconds a run may take before it is stopped (None: no limit)
    project: Any = None  # a running.isolation.ProjectIsolation: the project a run copies and may not write
