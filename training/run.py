"""The training entry point: config -> data -> CV -> best model -> threshold -> artifacts -> lineage."""

from __future__ import annotations

import contextlib
import errno
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pytest_repro.errors import ConfigError, Problem, ReproError
from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.environment import code_version
from pytest_repro.lineage.manifest import project_root_for
from pytest_repro.lineage.output_names import OutputNameError, check_output_names
from pytest_repro.lineage.pins import registry_path
from pytest_repro.lineage.writing import Publication
from training.config import config_to_dict, load_config_with_digest, validate_config
from training.progress import Progress
from training.schema import ARTIFACT_KEYS, Config

# The design document's lineage layout: these entries also appear at the manifest's top level.
DESIGN_FIELDS = ("dataset", "config", "model", "threshold")


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


def _resolve_config(
    config_path: str | Path, seed: int | None, overrides: Mapping[str, Any] | None
) -> tuple[Config, str]:
    """The resolved config and the SHA-256 of the config file's bytes it was parsed from."""
    config, digest = load_config_with_digest(config_path)
    if seed is None and not overrides:
        return config, digest
    data = config_to_dict(config)
    for dotted, value in (overrides or {}).items():
        apply_override(data, dotted, value)
    if seed is not None:
        data["seed"] = seed
    return validate_config(data, f"{config_path} (with overrides)"), digest


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
    jobs: int | None = None,
) -> TrainingResult:
    """Train every configured model, keep the best, and publish its artifacts and lineage.

    `jobs` is the number of worker processes the cross-validation fits run in (None:
    `REPRO_WORKERS`, else every available core; see `training.parallel`); any count
    gives the same bytes.

    Relative paths in the config resolve against the config file's folder, so the
    result does not depend on the working directory.  Publishing goes through the
    plugin's `Publication`: every artifact staged, the lineage written last, all
    renamed into place together under a lock on the output folder.

    The dataset, and the config's own output folder, must resolve (links followed)
    inside the config file's folder: a lineage recording files elsewhere could never
    be verified from the project, so they are refused before anything is read.  An
    explicit `output_dir` may lie anywhere (the plugin's twins train into temporary
    folders); its lineage records a root that holds it.  The command line, which
    publishes for people to verify, holds `--output-dir` to the project too
    (`check_output_dir`).
    """
    started = time.perf_counter()
    config_path = Path(config_path)
    config, config_sha256 = _resolve_config(config_path, seed, overrides)
    from training.parallel import worker_count

    workers = worker_count(jobs)
    progress = progress or Progress()
    config_dir = config_path.resolve().parent
    dataset_path = config_dir / config.data.path
    out = Path(output_dir) if output_dir is not None else config_dir / config.artifacts.model_dir
    inside = {"data.path": (config.data.path, dataset_path)}
    if output_dir is None:
        inside["artifacts.model_dir"] = (config.artifacts.model_dir, out)
    check_inside_project(config_path, config_dir, inside)
    read = {"config": config_path, "dataset": dataset_path, "pins": registry_path(dataset_path)}
    check_artifact_names(config, config_path, out, read)
    with Publication(out.resolve()) as publication:
        if publication.recovered:
            progress.notice(
                f"{publication.folder}: finished an interrupted commit of an earlier run: "
                f"published {', '.join(publication.recovered)}"
            )
        code = code_version(config_dir)  # before the fit: the code that trains, not the code after it
        fitted = _fit(config, dataset_path, progress, workers)
        progress.message(f"writing artifacts to {publication.folder}")
        inputs = {"dataset": (dataset_path, fitted.dataset_sha256), "config": (config_path, config_sha256)}
        return _publish(config, inputs, publication, fitted, started, code)


def check_artifact_names(config: Config, config_path: Path, out: Path, inputs: Mapping[str, Path]) -> None:
    """Refuse, before any data is read, artifact names that collide, are reserved or would overwrite an input."""
    try:
        check_output_names(
            out, config.artifacts.output_names(), lineage_file=config.artifacts.lineage_file, inputs=inputs
        )
    except OutputNameError as error:
        key = f"artifacts.{ARTIFACT_KEYS[error.entry]}"
        raise ConfigError([Problem(str(config_path), key, f"{error.file_name!r} {error.reason}")]) from None


def check_output_dir(config_path: str | Path, output_dir: str | Path) -> None:
    """Refuse an explicit output folder that resolves (links followed) outside the config's folder.

    Its lineage would record the config and dataset from a root above the project,
    which `repro-check` run in the project refuses to follow, so the training would
    publish what its own check cannot verify.  A missing config is left to `train`,
    which names it.
    """
    config_path = Path(config_path)
    if config_path.is_file():
        check_inside_project(
            "<command line>",
            config_path.resolve().parent,
            {"--output-dir": (str(output_dir), Path(output_dir))},
        )


def check_inside_project(where: str | Path, project: Path, paths: Mapping[str, tuple[str, Path]]) -> None:
    """Refuse, naming the key, a path (key -> (value, path)) that resolves outside `project`.

    `where` is what the keys belong to: the config file, or the command line.  A path
    that cannot be resolved at all (a symbolic link loop, a NUL byte) is refused the same
    way, naming the key.
    """
    problems = []
    for key, (value, path) in paths.items():
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            problems.append(Problem(str(where), key, f"{value!r} cannot be resolved: {_unresolvable(exc)}"))
            continue
        if not resolved.is_relative_to(project):
            problems.append(
                Problem(
                    str(where),
                    key,
                    f"{value!r} resolves outside the config's folder; keep it inside the project, where its "
                    "lineage can be verified",
                )
            )
    if problems:
        raise ConfigError(problems)


def _unresolvable(exc: Exception) -> str:
    """Why `Path.resolve` failed, in words: the exception types differ between Python versions."""
    if isinstance(exc, ValueError):  # "embedded null byte": no file name can hold one
        return "it holds a NUL byte"
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "a symbolic link loop"  # RuntimeError up to Python 3.12, OSError(ELOOP) from 3.13
    return getattr(exc, "strerror", None) or str(exc)


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


def _fit(config: Config, dataset_path: Path, progress: Progress, workers: int) -> _Fitted:
    # The pin is checked before scikit-learn is imported: a wrong dataset fails in a blink.
    # The bytes checked are the bytes parsed (read once), so a file swapped meanwhile cannot
    # be trained on while the lineage records the pinned hash.
    from pytest_repro.lineage.pins import read_pinned_dataset
    from training.parallel import start_workers

    data, dataset_sha256 = read_pinned_dataset(dataset_path)
    start_workers(workers)  # their imports overlap this process's own and the parsing of the data
    with _single_threaded():
        return _fit_pinned(config, dataset_path, data, dataset_sha256, progress, workers)


def _fit_pinned(
    config: Config,
    dataset_path: Path,
    data: bytes,
    dataset_sha256: str,
    progress: Progress,
    workers: int,
) -> _Fitted:
    from sklearn.base import clone

    from training.data import load_dataset, split_data
    from training.drift import drift_baseline
    from training.evaluation import (
        choose_threshold,
        cross_validate_models,
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
    frame = reorder_rows(load_dataset(dataset_path, config.data.target, data), row_order_seed())
    x_train, x_test, y_train, y_test = split_data(frame, config)
    progress.message(
        f"loaded {len(frame)} rows from {config.data.path}: {len(x_train)} train, {len(x_test)} test"
    )
    folds = make_folds(y_train, config)
    pipelines = {
        name: build_pipeline(config, estimator) for name, estimator in build_estimators(config).items()
    }
    if workers > 1:
        progress.message(
            f"cross-validating {len(pipelines)} models x {len(folds)} folds in {workers} workers"
        )
    results = cross_validate_models(
        pipelines, x_train, y_train, folds, workers=workers, seed=config.seed, on_fold=progress.fold
    )
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
    inputs: Mapping[str, tuple[Path, str]],
    publication: Publication,
    fitted: _Fitted,
    started: float,
    code: Mapping[str, Any] | None,
) -> TrainingResult:
    import joblib

    names = config.artifacts.output_names()

    def write_model(handle: BinaryIO) -> None:
        joblib.dump(fitted.pipeline, handle)

    paths = {"model": publication.add("model", names["model"], write_model)}
    payloads = {
        "threshold": f"{fitted.threshold!r}\n".encode(),
        "metrics": canonical_json(fitted.metrics),
        "drift_baseline": canonical_json(fitted.drift),
    }
    for entry, data in payloads.items():
        paths[entry] = publication.add(entry, names[entry], data)
    publication.finish(
        config.artifacts.lineage_file,
        inputs={name: (path.resolve(), digest) for name, (path, digest) in inputs.items()},
        seed=config.seed,
        folds=fitted.folds,
        root=project_root_for(inputs["config"][0].resolve().parent, publication.folder),
        code=code,
        mirror=DESIGN_FIELDS,
    )
    return TrainingResult(
        output_dir=publication.folder,
        artifacts=paths,
        lineage_path=publication.folder / config.artifacts.lineage_file,
        folds=fitted.folds,
        metrics=fitted.metrics,
        seconds=time.perf_counter() - started,
    )


def train_for_repro(
    config_path: str, output_dir: str, seed: int | None = None, overrides: Mapping[str, Any] | None = None
) -> Mapping[str, Any]:
    """Entry point for pytest-repro (`repro_train = "training:train_for_repro"`).

    The worker count comes from `REPRO_WORKERS`, which the plugin sets for each run.
    """
    return train(config_path, output_dir, seed=seed, overrides=overrides).to_repro()
