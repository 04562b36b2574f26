"""The training entry point: config -> data -> CV -> best model -> threshold -> artifacts -> lineage."""

from __future__ import annotations

import errno
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_repro import Publication, lineage
from pytest_repro.errors import ConfigError, Problem
from training.config import env_int, load_config_with_digest


def train(
    config_path: str | Path = "config.yaml",
    output_dir: str | Path | None = None,
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Train every configured model, keep the best, publish its artifacts and lineage together.

    Returns the entry-point contract's record (artifacts, lineage, folds, metrics).  The config's
    paths must stay inside its folder; `output_dir` may lie anywhere (the twins' temporary folders).
    """
    config_path = Path(config_path)
    config, config_sha256 = load_config_with_digest(config_path, seed, overrides)
    say = (lambda text: None) if quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    project = config_path.resolve().parent
    dataset_path = project / config.data.path
    out = Path(output_dir) if output_dir is not None else project / config.artifacts.model_dir
    model_dir = {} if output_dir is not None else {"artifacts.model_dir": (config.artifacts.model_dir, out)}
    check_inside_project(config_path, project, {"data.path": (config.data.path, dataset_path), **model_dir})
    names = config.artifacts.output_names()
    inputs = {"config": config_path, "dataset": dataset_path, "pins": lineage.registry_path(dataset_path)}
    try:
        lineage.check_output_names(out, names, lineage_file=config.artifacts.lineage_file, inputs=inputs)
    except lineage.OutputNameError as error:
        key = f"artifacts.{error.entry}_file"
        raise ConfigError([Problem(str(config_path), key, f"{error.file_name!r} {error.reason}")]) from None
    workers = jobs or env_int("REPRO_WORKERS", -1, 1)  # pytest-repro sets it to a run's share of the cores
    with Publication(out.resolve()) as publication:
        if publication.recovered:
            print(
                f"note: {publication.folder}: finished an interrupted commit of an earlier run: "
                f"published {', '.join(publication.recovered)}",
                file=sys.stderr,
            )
        code = lineage.code_version(project)  # before the fit: the code that trains, not the code after it
        import joblib
        from threadpoolctl import threadpool_limits

        from training import fit  # first: threadpool_limits reaches only the BLAS and OpenMP libraries loaded

        # They sum in an order that depends on their thread count, so every fit uses one thread.
        with threadpool_limits(limits=1):
            fitted = fit.fit(config, dataset_path, workers, say)
        payloads = {
            "model": lambda handle: joblib.dump(fitted.pipeline, handle),
            "threshold": f"{fitted.metrics['threshold']['value']!r}\n".encode(),
            "metrics": lineage.canonical_json(fitted.metrics),
            "drift_baseline": lineage.canonical_json(fitted.drift),
        }
        paths = {entry: publication.add(entry, names[entry], data) for entry, data in payloads.items()}
        read = {"dataset": (dataset_path, fitted.dataset_sha256), "config": (config_path, config_sha256)}
        publication.finish(
            config.artifacts.lineage_file,
            inputs={name: (path.resolve(), digest) for name, (path, digest) in read.items()},
            seed=config.seed,
            folds=fitted.folds,
            code=code,
            mirror=("dataset", "config", "model", "threshold"),  # the design's fields, also at the top level
        )
    artifacts = {entry: str(path) for entry, path in paths.items()}
    manifest = str(publication.folder / config.artifacts.lineage_file)
    return {"artifacts": artifacts, "lineage": manifest, "folds": fitted.folds, "metrics": fitted.metrics}


def check_inside_project(where: str | Path, project: Path, paths: Mapping[str, tuple[str, Path]]) -> None:
    """Refuse, naming the key, a path (key -> (value, path)) that resolves outside `project` or not at all."""
    problems = []
    for key, (value, path) in paths.items():
        try:
            if not path.resolve().is_relative_to(project):
                reason = "resolves outside the config's folder; keep it inside the project, where its lineage can be verified"
                problems.append(Problem(str(where), key, f"{value!r} {reason}"))
        except ValueError:  # "embedded null byte": no file name can hold one
            problems.append(Problem(str(where), key, f"{value!r} cannot be resolved: it holds a NUL byte"))
        except (OSError, RuntimeError) as exc:  # a loop is RuntimeError up to Python 3.12, ELOOP from 3.13
            loop = isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP
            reason = "a symbolic link loop" if loop else exc.strerror or str(exc)
            problems.append(Problem(str(where), key, f"{value!r} cannot be resolved: {reason}"))
    if problems:
        raise ConfigError(problems)


# The entry point pytest-repro calls (`repro_train = "training:train_for_repro"`).
train_for_repro = train
