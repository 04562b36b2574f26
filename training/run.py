"""The training entry point: config -> data -> CV -> best model -> threshold -> artifacts -> lineage."""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.errors import ConfigError, Problem
from pytest_repro.lineage import (
    OutputNameError,
    Publication,
    canonical_json,
    check_output_names,
    code_version,
    registry_path,
)
from training.config import ARTIFACT_KEYS, Config, config_to_dict, load_config_with_digest, validate_config

# The design document's lineage layout: these entries also appear at the manifest's top level.
DESIGN_FIELDS = ("dataset", "config", "model", "threshold")


@dataclass(frozen=True)
class TrainingResult:
    """What one training produced: artifact paths, CV folds (dataset row numbers) and metrics."""

    output_dir: Path
    artifacts: dict[str, Path]
    lineage_path: Path
    folds: list[list[int]]
    metrics: dict[str, Any]
    seconds: float

    def to_repro(self) -> dict[str, Any]:
        """Return the record pytest-repro's entry-point contract asks for."""
        return {
            "artifacts": {name: str(path) for name, path in self.artifacts.items()},
            "lineage": str(self.lineage_path),
            "folds": self.folds,
            "metrics": self.metrics,
        }


def train(
    config_path: str | Path = "config.yaml",
    output_dir: str | Path | None = None,
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    quiet: bool = False,
) -> TrainingResult:
    """Train every configured model, keep the best, and publish its artifacts and lineage.

    Paths in the config resolve against its folder; the dataset and the config's output
    folder must lie inside it (links followed), where their lineage can be verified.  An
    explicit `output_dir` may lie anywhere (pytest-repro's twins train into temporary
    folders).  `jobs` is the number of processes the cross-validation fits run in (default
    REPRO_WORKERS, else every core); any count gives the same bytes.  Publishing goes
    through the plugin's `Publication`: everything appears together, the lineage last.
    """
    started = time.perf_counter()
    config_path = Path(config_path)
    config, config_sha256 = load_config_with_digest(config_path)
    if seed is not None or overrides:
        config = validate_config(_overridden(config, seed, overrides), f"{config_path} (with overrides)")
    say = (lambda text: None) if quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    project = config_path.resolve().parent
    dataset_path = project / config.data.path
    out = Path(output_dir) if output_dir is not None else project / config.artifacts.model_dir
    inside = {"data.path": (config.data.path, dataset_path)}
    if output_dir is None:
        inside["artifacts.model_dir"] = (config.artifacts.model_dir, out)
    check_inside_project(config_path, project, inside)
    inputs = {"config": config_path, "dataset": dataset_path, "pins": registry_path(dataset_path)}
    try:
        check_output_names(
            out, config.artifacts.output_names(), lineage_file=config.artifacts.lineage_file, inputs=inputs
        )
    except OutputNameError as error:
        key = f"artifacts.{ARTIFACT_KEYS[error.entry]}"
        raise ConfigError([Problem(str(config_path), key, f"{error.file_name!r} {error.reason}")]) from None
    workers = jobs if jobs is not None else _positive_env("REPRO_WORKERS", default=-1)
    with Publication(out.resolve()) as publication:
        if publication.recovered:
            print(
                f"note: {publication.folder}: finished an interrupted commit of an earlier run: "
                f"published {', '.join(publication.recovered)}",
                file=sys.stderr,
            )
        code = code_version(project)  # before the fit: the code that trains, not the code after it
        from threadpoolctl import threadpool_limits

        # Imported first: threadpool_limits reaches only the BLAS and OpenMP libraries already loaded.
        from training.fit import fit

        # They sum in an order that depends on their thread count, so every fit uses one thread.
        with threadpool_limits(limits=1):
            fitted = fit(config, dataset_path, workers, say)
        say(f"writing artifacts to {publication.folder}")
        return _publish(
            config,
            publication,
            fitted,
            {"dataset": (dataset_path, fitted.dataset_sha256), "config": (config_path, config_sha256)},
            code,
            started,
        )


def _overridden(config: Config, seed: int | None, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config as data with `a.b.c` overrides applied; None for a model section removes that model."""
    data = config_to_dict(config)
    for dotted, value in (overrides or {}).items():
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
    if seed is not None:
        data["seed"] = seed
    return data


def _positive_env(variable: str, default: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not (text.isdigit() and int(text) > 0):
        raise ConfigError([Problem("<environment>", variable, f"got {text!r}; expected a positive integer")])
    return int(text)


def check_inside_project(where: str | Path, project: Path, paths: Mapping[str, tuple[str, Path]]) -> None:
    """Refuse, naming the key, a path (key -> (value, path)) that resolves outside `project` or not at all."""
    problems = []
    for key, (value, path) in paths.items():
        try:
            if not path.resolve().is_relative_to(project):
                problems.append(
                    Problem(
                        str(where),
                        key,
                        f"{value!r} resolves outside the config's folder; keep it inside the project, "
                        "where its lineage can be verified",
                    )
                )
        except (OSError, RuntimeError, ValueError) as exc:
            problems.append(Problem(str(where), key, f"{value!r} cannot be resolved: {_unresolvable(exc)}"))
    if problems:
        raise ConfigError(problems)


def _unresolvable(exc: Exception) -> str:
    if isinstance(exc, ValueError):  # "embedded null byte": no file name can hold one
        return "it holds a NUL byte"
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "a symbolic link loop"  # RuntimeError up to Python 3.12, OSError(ELOOP) from 3.13
    return getattr(exc, "strerror", None) or str(exc)


def _publish(
    config: Config,
    publication: Publication,
    fitted: Any,
    inputs: Mapping[str, tuple[Path, str]],
    code: Mapping[str, Any] | None,
    started: float,
) -> TrainingResult:
    import joblib

    names = config.artifacts.output_names()
    paths = {
        "model": publication.add("model", names["model"], lambda handle: joblib.dump(fitted.pipeline, handle))
    }
    payloads = {
        "threshold": f"{fitted.metrics['threshold']['value']!r}\n".encode(),
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
    """Entry point for pytest-repro (`repro_train = "training:train_for_repro"`)."""
    return train(config_path, output_dir, seed=seed, overrides=overrides).to_repro()
