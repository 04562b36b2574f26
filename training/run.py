"""The training entry point: config -> data -> CV -> best model -> threshold -> artifacts -> lineage."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pytest_repro.errors import ConfigError, Problem, ReproError
from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
from pytest_repro.lineage.manifest import build_lineage, project_root_for
from pytest_repro.lineage.publish import (
    StagedCommit,
    output_lock,
    prepare_output_dir,
    recover_interrupted_commit,
    remove_stale_staging,
)
from pytest_repro.lineage.signing import envelope_bytes, envelope_path, key_from_env
from training.config import config_to_dict, load_config, validate_config
from training.progress import Progress
from training.schema import Config


class UnseededEstimatorError(ReproError):
    """The pipeline about to be saved holds an estimator whose random_state is None."""


@dataclass(frozen=True)
class TrainingResult:
    """What one training produced: artifact paths, CV folds (dataset row numbers) and metrics."""

    output_dir: Path
    artifacts: dict[str, Path]
    lineage_path: Path
    folds: tuple[tuple[int, ...], ...]
    metrics: dict[str, Any]
    seconds: float

    def to_repro(self) -> dict[str, Any]:
        """Return the record the pytest-repro entry-point contract asks for."""
        return {
            "artifacts": {name: str(path) for name, path in self.artifacts.items()},
            "lineage": str(self.lineage_path),
            "folds": [list(fold) for fold in self.folds],
            "metrics": self.metrics,
        }


def resolve_config(
    config_path: str | Path, seed: int | None = None, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Load and validate the config, then apply a seed and dotted-key overrides through the same schema."""
    config = load_config(config_path)
    if seed is None and not overrides:
        return config
    data = config_to_dict(config)
    for dotted, value in (overrides or {}).items():
        apply_override(data, dotted, value)
    if seed is not None:
        data["seed"] = seed
    return validate_config(data, f"{config_path} (with overrides)")


def apply_override(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c` in nested mappings; a value of None for a model section removes that model."""
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError([Problem("<overrides>", dotted, f"{part} is not a section")])
    if value is None and parents == ["models"]:
        node.pop(leaf, None)
    else:
        node[leaf] = value


def train(
    config_path: str | Path = "config.yaml",
    output_dir: str | Path | None = None,
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train every configured model, keep the best, and publish its artifacts and lineage.

    Relative paths in the config resolve against the config file's folder, so the
    result does not depend on the working directory.
    """
    started = time.perf_counter()
    config_path = Path(config_path)
    config = resolve_config(config_path, seed, overrides)
    progress = progress or Progress()
    config_dir = config_path.resolve().parent
    dataset_path = config_dir / config.data.path
    out = Path(output_dir) if output_dir is not None else config_dir / config.artifacts.model_dir
    out = prepare_output_dir(out.resolve())
    signing_key = key_from_env()  # a bad key is a config error before training, not after
    with output_lock(out):
        recover_interrupted_commit(out)
        remove_stale_staging(out)
        fitted = _fit(config, dataset_path, progress)
        progress.message(f"writing artifacts to {out}")
        return _publish(config, config_path, dataset_path, out, fitted, started, signing_key)


@contextlib.contextmanager
def _single_threaded() -> Iterator[None]:
    """Run BLAS and OpenMP with one thread, so that the fit does not depend on the machine's cores.

    They sum in an order that depends on their thread count: the logistic regression's
    coefficients moved by ~1e-12 between 1 and 2 threads (`repro-vary --vary threads`).
    """
    from threadpoolctl import threadpool_limits

    # threadpool_limits reaches only the libraries already loaded; this loads numpy's and
    # scipy's BLAS and scikit-learn's OpenMP runtime.
    import training.models  # noqa: F401

    with threadpool_limits(limits=1):
        yield


@dataclass(frozen=True)
class _Fitted:
    pipeline: Any
    metrics: dict[str, Any]
    threshold: float
    drift: dict[str, Any]
    folds: tuple[tuple[int, ...], ...]
    dataset_sha256: str


def _fit(config: Config, dataset_path: Path, progress: Progress) -> _Fitted:
    # The pin is checked before scikit-learn is imported: a wrong dataset fails in a blink.
    from pytest_repro.lineage.pins import check_dataset_pin

    dataset_sha256 = check_dataset_pin(dataset_path)
    with _single_threaded():
        return _fit_pinned(config, dataset_path, dataset_sha256, progress)


def _fit_pinned(config: Config, dataset_path: Path, dataset_sha256: str, progress: Progress) -> _Fitted:
    from sklearn.base import clone

    from training.data import load_dataset, split_data
    from training.drift import drift_baseline
    from training.evaluation import (
        choose_threshold,
        cross_validate_model,
        make_folds,
        score,
        select_best,
        test_metrics,
    )
    from training.features import (
        CATEGORICAL_FEATURES,
        NUMERIC_FEATURES,
        feature_builder_from_config,
    )
    from training.harness import reorder_rows, row_order_seed
    from training.models import build_estimators, build_pipeline, unseeded_estimators
    from training.seeding import set_global_seed

    set_global_seed(config.seed)
    frame = reorder_rows(load_dataset(dataset_path, config.data.target), row_order_seed())
    x_train, x_test, y_train, y_test = split_data(frame, config)
    progress.message(
        f"loaded {len(frame)} rows from {config.data.path}: {len(x_train)} train, {len(x_test)} test"
    )
    folds = make_folds(y_train, config)
    results = {}
    for name, estimator in build_estimators(config).items():
        pipeline = build_pipeline(config, estimator)
        results[name] = cross_validate_model(name, pipeline, x_train, y_train, folds, on_fold=progress.fold)
    best = select_best(results)
    progress.message(f"best model by mean CV ROC AUC: {best} ({results[best].mean:.4f}); refitting")
    pipeline = clone(build_pipeline(config, build_estimators(config)[best]))
    pipeline.fit(x_train, y_train)
    unseeded = unseeded_estimators(pipeline)
    if unseeded:
        raise UnseededEstimatorError(
            f"refusing to save a model with random_state None at: {', '.join(unseeded)}"
        )
    choice = choose_threshold(y_train, results[best].oof_scores, config.business.target_precision)
    test_scores, kind = score(pipeline, x_test)
    features = feature_builder_from_config(config).fit(x_train).transform(x_train)
    metrics = {
        "selected_model": best,
        "score_kind": kind,
        "cv": {
            name: {
                "fold_roc_auc": list(r.fold_scores),
                "mean_roc_auc": r.mean,
                "std_roc_auc": r.std,
            }
            for name, r in results.items()
        },
        "threshold": {
            "value": choice.threshold,
            "target_precision": config.business.target_precision,
            "target_met": choice.target_met,
            "oof_precision": choice.precision,
            "oof_recall": choice.recall,
            "chosen_on": "out-of-fold scores of the training split",
        },
        "test": test_metrics(y_test, test_scores, choice.threshold),
        "data": {"rows": len(frame), "train_rows": len(x_train), "test_rows": len(x_test)},
        "seed": config.seed,
    }
    row_numbers = x_train.index.to_numpy()
    fold_rows = tuple(tuple(int(r) for r in sorted(row_numbers[test])) for _, test in folds)
    drift = drift_baseline(features, NUMERIC_FEATURES, CATEGORICAL_FEATURES)
    return _Fitted(pipeline, metrics, choice.threshold, drift, fold_rows, dataset_sha256)


def _publish(
    config: Config,
    config_path: Path,
    dataset_path: Path,
    out: Path,
    fitted: _Fitted,
    started: float,
    signing_key: bytes | None = None,
) -> TrainingResult:
    import joblib

    from pytest_repro.lineage.environment import capture_environment, code_version

    names = config.artifacts.output_names()
    paths = {entry: out / file_name for entry, file_name in names.items()}
    lineage_path = out / config.artifacts.lineage_file
    payloads = {
        "threshold": f"{fitted.threshold!r}\n".encode(),
        "metrics": canonical_json(fitted.metrics),
        "drift_baseline": canonical_json(fitted.drift),
    }

    def write_model(handle: BinaryIO) -> None:
        joblib.dump(fitted.pipeline, handle)

    root = project_root_for(config_path.resolve().parent, out)
    with StagedCommit(out) as commit:
        staged = {"model": commit.stage(names["model"], write_model)}
        for entry, data in payloads.items():
            staged[entry] = commit.stage(names[entry], _bytes_writer(data))
        hashes = {
            "dataset": fitted.dataset_sha256,
            "config": sha256_file(config_path),
            **{entry: sha256_file(path) for entry, path in staged.items()},
        }
        lineage = build_lineage(
            lineage_path=lineage_path,
            root=root,
            files={"dataset": dataset_path, "config": config_path.resolve(), **paths},
            hashes=hashes,
            seed=config.seed,
            folds_sha256=sha256_bytes(canonical_json([list(f) for f in fitted.folds])),
            n_splits=config.cv.n_splits,
            environment=capture_environment(),
            code=code_version(config_path.resolve().parent),
        )
        lineage_bytes = canonical_json(lineage)
        signature_path = envelope_path(lineage_path)
        if signing_key is not None:  # staged first, so it is renamed into place before the lineage
            commit.stage(signature_path.name, _bytes_writer(envelope_bytes(lineage_bytes, signing_key)))
        commit.stage(config.artifacts.lineage_file, _bytes_writer(lineage_bytes))
    if signing_key is None:
        # An envelope left by an earlier signed run no longer matches; removed after the
        # commit, so until then the check fails rather than passing unsigned.
        signature_path.unlink(missing_ok=True)
    return TrainingResult(
        output_dir=out,
        artifacts=paths,
        lineage_path=lineage_path,
        folds=fitted.folds,
        metrics=fitted.metrics,
        seconds=time.perf_counter() - started,
    )


def _bytes_writer(data: bytes) -> Any:
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write


def train_for_repro(
    config_path: str, output_dir: str, seed: int | None = None, overrides: Mapping[str, Any] | None = None
) -> Mapping[str, Any]:
    """Entry point for pytest-repro (`repro_train = "training:train_for_repro"`)."""
    return train(config_path, output_dir, seed=seed, overrides=overrides).to_repro()
