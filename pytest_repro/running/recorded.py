"""Against a recorded run: a verified lineage, and the files it names, stand in for run-a.

In CI the training has already run once to produce the artifacts.  `pytest --repro
--repro-against LINEAGE` trains only run-b and compares it with that run, check by
check, as the twins are compared: every output (the recorded files are on disk, so a
model is walked and JSON diffed), the folds and the metrics.  The recorded run must be
today's, or a difference would say nothing about reproducibility:

- its lineage verifies: every input and output re-hashed, its signature checked when
  keys are configured;
- it read today's inputs (each recorded input is re-hashed where it lies today) and
  today's config, with today's seed, from this checkout's commit.

Anything else is refused in one line before any training (comparing a run of other
inputs with today's is replay's question).  The lineage is untrusted input (restored
from another machine): when run-b has trained it is verified once more, and each
recorded output is copied into a private folder and hashed there, so the files the
checks open (a model is unpickled to be walked) are byte for byte what verified, even
if one was swapped while run-b trained.  What a lineage cannot give is said where
it matters: it keeps the folds' SHA-256, not their rows, and metrics only when the
training also wrote them to an output file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core.paths import shown_path
from pytest_repro.core.run_records import RunRecord
from pytest_repro.errors import ReproError
from pytest_repro.lineage.manifest import (
    INPUT,
    OUTPUT,
    Entry,
    entries,
    missing_lineage_message,
    parse_lineage,
    read_lineage,
)
from pytest_repro.lineage.verify import lineage_root, resolve_entry

# A JSON output read as the recorded metrics may be this large; larger ones are not metrics.
MAX_METRICS_BYTES = 10_000_000


class RecordedRunRefused(ReproError):
    """The recorded run cannot stand in for run-a: it does not verify, or it is not today's."""


@dataclass(frozen=True)
class RecordedRun:
    """A recorded run that stands in for run-a: its lineage, and the project its paths are shown from."""

    lineage_path: Path
    project_root: Path

    def twin_of(self, fresh: RunRecord) -> RunRecord:
        """Run-a for the fresh run-b (see `recorded_twin`)."""
        return recorded_twin(self.lineage_path, fresh, self.project_root)


def check_recorded_run(
    lineage_path: Path, *, project_root: Path, config_path: Path, seed: int | None, source: str
) -> None:
    """Refuse, in one line naming `source` (the option or ini setting), a recorded run that is not today's.

    `seed` is the seed today's run will use (None when only the training knows it).
    """
    from pytest_repro.lineage.checking import check

    shown = shown_path(lineage_path, project_root)
    where = f"{source} {shown}"
    if not lineage_path.exists():
        raise RecordedRunRefused(f"{where}: {missing_lineage_message(shown)}")
    try:
        result = check(lineage_path, write_reports=False, project_root=project_root)
        lineage = parse_lineage(result.lineage_bytes, lineage_path)
        recorded = entries(lineage, lineage_path)
    except ReproError as exc:
        raise RecordedRunRefused(f"{where}: {_one_line(exc)}") from None
    inputs = [entry for entry in recorded if entry.role == INPUT]
    changed = [failure for failure in result.failures if failure.name in {entry.name for entry in inputs}]
    if changed:
        raise RecordedRunRefused(
            f"{where}: the recorded run read another {changed[0].name} than today's: {changed[0].describe()}"
        )
    if result.failures:
        more = f" (and {len(result.failures) - 1} more)" if len(result.failures) > 1 else ""
        raise RecordedRunRefused(
            f"{where}: the recorded run does not verify: {result.failures[0].describe()}{more}"
        )
    root = lineage_root(lineage, lineage_path, project_root)
    problem = (
        _config_problem(inputs, root, lineage_path, config_path, project_root)
        or _seed_problem(lineage.get("seed"), seed)
        or _code_problem(lineage.get("code"), root)
    )
    if problem:
        raise RecordedRunRefused(f"{where}: {problem}")


def _one_line(exc: ReproError) -> str:
    lines = exc.lines()
    return lines[0] + (f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else "")


def _config_problem(
    inputs: list[Entry], root: Path, lineage_path: Path, config_path: Path, project_root: Path
) -> str | None:
    """Today's config must be one of the recorded run's inputs (verification proved its bytes equal)."""
    if not config_path.is_file():
        return None
    read = {resolve_entry(root, entry.path, name=entry.name, lineage_path=lineage_path) for entry in inputs}
    if config_path.resolve() in read:
        return None
    return (
        f"the recorded run does not record today's config {shown_path(config_path, project_root)} "
        "among its inputs, so it may have trained another one"
    )


def _seed_problem(recorded: Any, today: int | None) -> str | None:
    if today is None or recorded is None or recorded == today:
        return None
    return f"the recorded run used seed {recorded}, today's runs use {today}"


def _code_problem(recorded: Any, root: Path) -> str | None:
    """The recorded commit and dirty flag must be this checkout's (a lineage without them is not judged)."""
    if not isinstance(recorded, Mapping):
        return None
    from pytest_repro.lineage.environment import code_version

    today = code_version(root)
    if today == dict(recorded):
        return None
    return f"the recorded run is of {_code_text(recorded)}, this checkout is {_code_text(today)}"


def _code_text(code: Mapping[str, Any] | None) -> str:
    if code is None:
        return "not a git checkout"
    state = "with uncommitted changes" if code.get("dirty") else "clean"
    return f"commit {str(code.get('git_commit'))[:12]} ({state})"


def recorded_twin(
    lineage_path: Path, fresh: RunRecord, project_root: Path, label: str = "run-a"
) -> RunRecord:
    """The recorded run as a RunRecord, its outputs named as `fresh` (run-b) names its artifacts.

    Its hashes are the recorded ones, verified again now (the lineage, its signature and
    every file); its artifacts are private copies of the recorded outputs whose SHA-256
    is the recorded one (`verified_copy`).  Its folds are `fresh`'s when their SHA-256
    is the recorded one, else known by that digest alone; its metrics are the recorded
    file that holds what `fresh` returned as metrics, or None when no output holds them.
    """
    lineage = _verified_again(lineage_path, project_root)
    root = lineage_root(lineage, lineage_path, project_root)
    outputs = {entry.name: entry for entry in entries(lineage, lineage_path) if entry.role == OUTPUT}
    paths = {
        name: resolve_entry(root, entry.path, name=name, lineage_path=lineage_path)
        for name, entry in outputs.items()
    }
    names = _fresh_names(
        outputs, {name: shown_path(path, project_root) for name, path in paths.items()}, fresh
    )
    copies = _private_copies(outputs, paths, Path(fresh.output_dir).parent, project_root)
    artifacts = {names.get(name, name): copies[name] for name in paths}
    hashes = {names.get(name, name): entry.sha256 for name, entry in outputs.items()}
    folds, folds_sha256 = _folds(lineage.get("cv_folds"), fresh.folds)
    return RunRecord(
        label=label,
        output_dir=lineage_path.parent,
        artifacts=artifacts,
        hashes=hashes,
        folds=folds,
        metrics=_metrics(artifacts, fresh),
        lineage=lineage_path,
        seconds=0.0,
        folds_sha256=folds_sha256,
    )


def _verified_again(lineage_path: Path, project_root: Path) -> dict[str, Any]:
    """The recorded lineage, verified once more (signature and every file): the bytes that verified, parsed."""
    from pytest_repro.lineage.checking import check

    result = check(lineage_path, write_reports=False, project_root=project_root)
    if result.failures:
        raise RecordedRunRefused(
            f"changed since it was verified: {result.failures[0].describe()}; refusing to open its files"
        )
    return parse_lineage(result.lineage_bytes, lineage_path)


def _private_copies(
    outputs: Mapping[str, Entry], paths: Mapping[str, Path], near: Path, project_root: Path
) -> dict[str, Path]:
    """Each recorded output copied into a new private folder under `near`, its copy's SHA-256 the recorded one.

    The checks open the copies, never the originals: a model swapped after the hash
    check (a pickle that runs code when loaded) is refused here, before anything loads it.
    """
    from pytest_repro.lineage.verified_copy import copy_and_hash

    folder = Path(tempfile.mkdtemp(prefix="recorded-", dir=near))  # mode 0700
    copies = {}
    for index, (name, entry) in enumerate(sorted(outputs.items())):
        shown = shown_path(paths[name], project_root)
        copy = folder / str(index) / paths[name].name
        actual = copy_and_hash(paths[name], copy, shown=shown, what="recorded output")
        if actual != entry.sha256:
            raise RecordedRunRefused(
                f"{shown}: changed since the lineage was verified (SHA-256 is {actual}, the lineage "
                f"records {entry.sha256}); refusing to open it"
            )
        copies[name] = copy
    return copies


def _fresh_names(outputs: Mapping[str, Entry], shown: Mapping[str, str], fresh: RunRecord) -> dict[str, str]:
    """Recorded output name -> the name run-b gives the same output.

    The same name (a function training naming its artifacts as its lineage does); else
    the output its own lineage records at the artifact's path under that name; else the
    recorded path relative to the project (a command training names its outputs by
    their paths in its copy of the project).
    """
    fresh_by_path = _fresh_lineage_names(fresh)
    found: dict[str, str] = {}
    by_path = {path: name for name, path in shown.items()}
    for name, path in fresh.artifacts.items():
        if name in outputs:
            found[name] = name
        elif fresh_by_path.get(_resolved(path)) in outputs:
            found[fresh_by_path[_resolved(path)]] = name
        elif name in by_path:
            found[by_path[name]] = name
    return found


def _fresh_lineage_names(fresh: RunRecord) -> dict[Path, str]:
    """The output names run-b's own lineage gives, by resolved path (none when it has no lineage)."""
    if fresh.lineage is None:
        return {}
    try:
        lineage = read_lineage(fresh.lineage)
        root = lineage_root(lineage, fresh.lineage)
        return {
            _resolved(root / entry.path): entry.name
            for entry in entries(lineage, fresh.lineage)
            if entry.role == OUTPUT
        }
    except (ReproError, OSError):
        return {}  # the lineage[run-b] check says what is wrong with it


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path)


def _folds(recorded: Any, fresh: list[list[int]] | None) -> tuple[list[list[int]] | None, str | None]:
    """Run-a's folds: run-b's when their digest is the recorded one; else only the recorded digest."""
    if not isinstance(recorded, Mapping) or not isinstance(recorded.get("sha256"), str):
        return None, None
    if fresh is not None:
        from pytest_repro.lineage.writing import folds_record

        if folds_record(fresh)["sha256"] == recorded["sha256"]:
            return fresh, recorded["sha256"]
    return None, recorded["sha256"]


def _metrics(artifacts: Mapping[str, Path], fresh: RunRecord) -> dict[str, Any] | None:
    """The recorded metrics: the recorded output that run-b wrote its returned metrics to.

    A training that returns metrics and saves the same JSON as an output (the demo's
    metrics.json, a command's repro_metrics file) has them recorded; one that does not
    has none to compare (None), and its outputs are still compared byte for byte.
    """
    if fresh.metrics is None or not fresh.metrics:
        return {} if fresh.metrics is not None else None
    for name, path in fresh.artifacts.items():
        if name in artifacts and _json_object(path) == fresh.metrics:
            return _json_object(artifacts[name])
    return None


def _json_object(path: Path) -> dict[str, Any] | None:
    from pytest_repro.core.parsing import loads_json
    from pytest_repro.core.regular_files import read_regular

    try:
        if Path(path).stat().st_size > MAX_METRICS_BYTES:
            return None
        value = loads_json(read_regular(path, MAX_METRICS_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
