"""Log a verified lineage to an MLflow run: tags, params, metrics, the dataset inputs and the lineage itself.

    repro-export mlflow [--lineage PATH] [--experiment NAME] [--tracking-uri URI]

What goes where:

- tags: `mlflow.source.git.commit` (the lineage's code version), `repro.run_id`,
  `repro.code.dirty`, `repro.signature` (signed / unsigned / unverified) and the keyids;
- params: `seed` and the config, flattened to dotted keys under `config.`;
- metrics: every numeric leaf of the `metrics` output (JSON), as dotted keys, step 0;
- inputs: every input except the config, as a dataset whose digest is our full SHA-256
  (MLflow's own digest hashes only a sample of rows into 8 hex digits);
- artifacts, under `repro/`: the lineage and its envelope, the bytes that were verified.

Nothing travels the other way: MLflow's run id is printed, never written into the
project, so the lineage and its outputs stay byte-identical across exports.
`mlflow-skinny` is an optional dependency (`pip install 'pytest-repro[mlflow]'`),
imported only here.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.errors import ExportError, MissingExtraError
from pytest_repro.lineage.export import CONFIG_INPUT, VerifiedLineage, config_content, verified_bytes
from pytest_repro.lineage.manifest import INPUT, OUTPUT
from pytest_repro.lineage.signing import envelope_path

DEFAULT_EXPERIMENT = "pytest-repro"
METRICS_OUTPUT = "metrics"
ARTIFACT_FOLDER = "repro"
DATASET_CONTEXT = "training"
SHA256_TAG = "repro.sha256"
# SQL-backed tracking stores hold at most 36 characters of digest; the file store has no limit.
SHORT_DIGEST = 32
_BATCH = 100  # MLflow's limit of params (and tags) per log_batch call
_METRIC_KEY_UNSAFE = re.compile(r"[^\w\-. /]")


@dataclass(frozen=True)
class MlflowRecord:
    """Everything one export logs, computed from the verified lineage before MLflow is touched."""

    tags: dict[str, str]
    params: dict[str, str]
    metrics: dict[str, float]
    datasets: tuple[dict[str, str], ...]
    artifacts: dict[str, bytes]


def mlflow_record(verified: VerifiedLineage) -> MlflowRecord:
    """Return the tags, params, metrics, datasets and artifacts of `verified`, from the bytes that were verified."""
    lineage = verified.lineage
    signature = verified.signature
    tags = {"repro.run_id": str(lineage.get("run_id") or "")}
    if signature is not None:
        tags["repro.signature"] = signature.status
        if signature.keyid:
            tags["repro.signature.keyids"] = signature.keyid
    code = lineage.get("code")
    if isinstance(code, Mapping):
        if code.get("git_commit"):
            tags["mlflow.source.git.commit"] = str(code["git_commit"])
        tags["repro.code.dirty"] = "true" if code.get("dirty") else "false"
    params: dict[str, str] = {}
    if lineage.get("seed") is not None:
        params["seed"] = str(lineage["seed"])
    config = next((item for item in verified.role(INPUT) if item.name == CONFIG_INPUT), None)
    if config is not None:
        content = config_content(verified, config)
        params.update(
            {f"config.{key}": _param_value(value) for key, value in _leaves(content)}
            if isinstance(content, Mapping)
            else {"config": _param_value(content)}
        )
    metrics: dict[str, float] = {}
    metrics_entry = next((item for item in verified.role(OUTPUT) if item.name == METRICS_OUTPUT), None)
    if metrics_entry is not None and metrics_entry.path.endswith(".json"):
        try:
            data = json.loads(verified_bytes(verified, metrics_entry))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise ExportError(
                f"{metrics_entry.path}: {METRICS_OUTPUT}: not valid JSON; cannot log its metrics"
            ) from None
        metrics = {
            _metric_key(key): float(value)
            for key, value in _leaves(data)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        }
    datasets = tuple(
        {"name": item.name, "path": item.path, "sha256": item.sha256}
        for item in verified.role(INPUT)
        if item.name != CONFIG_INPUT
    )
    artifacts = {verified.path.name: verified.data}
    status = verified.signature
    if status is not None and status.envelope_bytes is not None:
        artifacts[envelope_path(verified.path).name] = status.envelope_bytes
    return MlflowRecord(tags, params, metrics, datasets, artifacts)


def _leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted key, value) for every leaf of nested mappings; lists are leaves."""
    if isinstance(data, Mapping):
        for key in sorted(data, key=str):
            yield from _leaves(data[key], f"{prefix}{key}.")
    elif prefix:
        yield prefix[:-1], data


def _param_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _metric_key(key: str) -> str:
    return _METRIC_KEY_UNSAFE.sub("_", key)


def log_to_mlflow(
    record: MlflowRecord,
    *,
    experiment: str = DEFAULT_EXPERIMENT,
    tracking_uri: str | None = None,
    run_name: str | None = None,
) -> tuple[str, list[str]]:
    """Create one finished MLflow run holding `record`; return its run id and any notes for the user.

    The run is marked FAILED if anything is refused halfway, so a partial run is never
    mistaken for a complete export.
    """
    mlflow = _import_mlflow()
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.exceptions import MlflowException

    notes: list[str] = []
    try:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
        run = client.create_run(experiment_id, tags=record.tags, run_name=run_name)
    except (MlflowException, OSError) as error:  # OSError: requests' connection errors derive from it
        raise ExportError(
            f"MLflow: cannot create a run in experiment {experiment!r}: {_reason(error)}"
        ) from None
    run_id = run.info.run_id
    try:
        now = int(time.time() * 1000)  # MLflow's timestamps; nothing of it enters our files
        params = [Param(key, value) for key, value in record.params.items()]
        for start in range(0, len(params), _BATCH):
            client.log_batch(run_id, params=params[start : start + _BATCH])
        metrics = [Metric(key, value, now, 0) for key, value in record.metrics.items()]
        for start in range(0, len(metrics), 10 * _BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + 10 * _BATCH])
        if record.datasets:
            notes += _log_datasets(client, run_id, record.datasets)
        with tempfile.TemporaryDirectory(prefix="repro-mlflow-") as folder:
            for name, data in record.artifacts.items():
                (Path(folder) / name).write_bytes(data)
                client.log_artifact(run_id, str(Path(folder) / name), artifact_path=ARTIFACT_FOLDER)
        client.log_batch(run_id, tags=[RunTag("repro.export", "complete")])
        client.set_terminated(run_id, "FINISHED")
    except (MlflowException, OSError) as error:
        with contextlib.suppress(MlflowException, OSError):  # the store may be what failed
            client.set_terminated(run_id, "FAILED")
        raise ExportError(
            f"MLflow run {run_id}: export refused, run marked FAILED: {_reason(error)}"
        ) from None
    return run_id, notes


def _reason(error: Exception) -> str:
    """Return an MLflow or connection error as one line."""
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())


def _log_datasets(client: Any, run_id: str, datasets: tuple[dict[str, str], ...]) -> list[str]:
    """Log the inputs as datasets digested by their full SHA-256, or 32 hex digits where the store limits digests."""
    from mlflow.exceptions import MlflowException

    try:
        client.log_inputs(run_id, datasets=[_dataset_input(item, len(item["sha256"])) for item in datasets])
        return []
    except MlflowException as error:
        if "digest" not in error.message:
            raise
    client.log_inputs(run_id, datasets=[_dataset_input(item, SHORT_DIGEST) for item in datasets])
    return [
        f"the tracking store limits dataset digests; logged the first {SHORT_DIGEST} hex digits of each "
        f"SHA-256 as the digest and the full SHA-256 in the input tag {SHA256_TAG}"
    ]


def _dataset_input(item: Mapping[str, str], digest_length: int) -> Any:
    from mlflow.entities import Dataset, DatasetInput, InputTag

    dataset = Dataset(
        name=item["name"],
        digest=item["sha256"][:digest_length],
        source_type="local",
        source=json.dumps({"uri": item["path"]}, sort_keys=True),
        profile=json.dumps({"sha256": item["sha256"]}, sort_keys=True),
    )
    tags = [InputTag("mlflow.data.context", DATASET_CONTEXT), InputTag(SHA256_TAG, item["sha256"])]
    return DatasetInput(dataset, tags)


def _import_mlflow() -> Any:
    try:
        import mlflow
    except ImportError:
        raise MissingExtraError("repro-export mlflow", extra="mlflow", package="mlflow-skinny") from None
    return mlflow
