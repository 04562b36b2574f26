"""A command's metrics from the MLflow run it logged (`repro_metrics = "mlflow:"`), read from the file store.

A script that tracks with MLflow already logs its metrics; asking it to write them to a
file as well is needless.  Each run's MLflow writes into the run (`isolation.py`): the
copy's default store `./mlruns`, or the run's own `mlruns/` beside its copy when the
user's tracking URI points elsewhere.  The store's files are read directly, without
importing mlflow: `<experiment>/<run>/metrics/<name>` holds one line per logged value,
`timestamp value step`, and a metric's value is the one logged at its highest step
(the last line, among lines of that step).  Runs the user's project already held
(an earlier run by hand, copied with the store) are not the training's.
`mlflow:<experiment name>` keeps the runs of that experiment only.  One run must
remain; none or several fail the metrics check in one line naming what was looked for.
A SQL store (`mlflow.db`, MLflow 3's default when no `./mlruns` exists) is not read:
the line says so, and `MLFLOW_TRACKING_URI=./mlruns` gives the file store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_repro.core.entry_points import ContractError

PREFIX = "mlflow:"
STORE = "mlruns"


def is_mlflow_source(metrics: str | None) -> bool:
    """Whether a `repro_metrics` value asks for the logged MLflow run's metrics."""
    return metrics is not None and metrics.startswith(PREFIX)


def read_mlflow_metrics(setting: str, tree: Path, own_store: Path, project: Path) -> dict[str, Any]:
    """The metrics of the one MLflow run the command logged in its copy `tree` (or its own store)."""
    experiment = setting[len(PREFIX) :].strip() or None
    named = f"repro_metrics {setting!r}"
    stores = [tree / STORE, own_store]
    runs = [run for store in stores if store.is_dir() for run in _new_runs(store, tree, project)]
    if experiment is not None:
        runs = [run for run in runs if _experiment_name(run.parent) == experiment]
    looked = " or ".join(str(store) for store in stores)
    if not runs:
        where = f"in experiment {experiment!r} " if experiment else ""
        sql = (
            " (it wrote mlflow.db, a SQL store this does not read: set MLFLOW_TRACKING_URI=./mlruns)"
            if (tree / "mlflow.db").is_file()
            else ""
        )
        raise ContractError(
            f"{named}: the command logged no MLflow run {where}in a file store at {looked}{sql}"
        )
    if len(runs) > 1:
        shown = ", ".join(f"{_experiment_name(run.parent)}/{run.name}" for run in runs)
        raise ContractError(
            f"{named}: the command logged {len(runs)} MLflow runs ({shown}); name one experiment: mlflow:<name>"
        )
    return _run_metrics(runs[0], named)


def _new_runs(store: Path, tree: Path, project: Path) -> list[Path]:
    """The run folders of a file store that the user's project did not already hold."""
    found = []
    for meta in sorted(store.glob("*/*/meta.yaml")):
        run = meta.parent
        if run.parent.name == ".trash" or (not (run / "metrics").is_dir() and not (run / "params").is_dir()):
            continue
        if run.is_relative_to(tree) and (project / run.relative_to(tree)).exists():
            continue  # copied with the user's store: an earlier run, not this one
        found.append(run)
    return found


def _experiment_name(experiment: Path) -> str:
    """An experiment's name from its `meta.yaml` (its folder's name, the id, when unreadable)."""
    try:
        for line in (experiment / "meta.yaml").read_text(encoding="utf-8").splitlines():
            if line.startswith("name:"):
                return line.partition(":")[2].strip().strip("'\"")
    except OSError:
        pass
    return experiment.name


def _run_metrics(run: Path, named: str) -> dict[str, Any]:
    folder = run / "metrics"
    metrics: dict[str, Any] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
        name = path.relative_to(folder).as_posix()
        best: tuple[int, float] | None = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            try:
                value, step = float(parts[1]), int(parts[2]) if len(parts) > 2 else 0
            except (IndexError, ValueError):
                raise ContractError(
                    f"{named}: {path} line {number}: expected 'timestamp value step', got {line!r}"
                ) from None
            if best is None or step >= best[0]:
                best = (step, value)
        if best is not None:
            metrics[name] = best[1]
    if not metrics:
        raise ContractError(f"{named}: the MLflow run {run.name} logged no metric ({folder} is empty)")
    return metrics
