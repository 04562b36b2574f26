"""One training run in the user's project itself, as a hand run would train (`repro-run`), with its reads recorded.

The twins train in copies and may not write to the project; this run is the user
asking to train, so it runs where the user works and writes where the training writes:
a command in the project's folder, unchanged; a function into the output folder it is
given.  No write guard is installed.  The recorder is (`run_site` first on every
Python process's PYTHONPATH, `REPRO_RECORD` naming a temporary folder), so the run's
inputs are the project's files its processes opened, as the twins' are.

`python -m pytest_repro.running.hand_run` is the subprocess a function trains in.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core.entry_points import ContractError
from pytest_repro.core.paths import matches_any, shown_path
from pytest_repro.core.run_records import RunRequest
from pytest_repro.errors import EXIT_VERIFICATION_FAILED, ReproError
from pytest_repro.running.command_training import OUTPUT_FOLDER, CommandTraining, expand_word
from pytest_repro.running.isolation import (
    RECORD_VARIABLE,
    SITE_FOLDER,
    inputs_read,
    recorded_events,
)

RESULT_NAME = "result.json"


class HandRunFailed(ReproError):
    """The training itself failed (its own output says why): nothing is recorded."""

    exit_code = EXIT_VERIFICATION_FAILED


@dataclass(frozen=True)
class HandRun:
    """What one run in the project read and wrote, named as the twins' lineages name them."""

    inputs: dict[str, str]  # relative path -> the file in the project
    outputs: dict[str, str]  # name (a command's: its relative path) -> the file
    folds: list[list[int]] | None = None
    lineage: Path | None = None  # a lineage the function wrote and returned itself
    stale: tuple[str, ...] = ()  # files an output glob matched that this run did not write


def run_in_project(
    request: RunRequest,
    root: Path,
    *,
    output_dir: Path,
    leave_out: Collection[str] = (),
    python_path: tuple[Path, ...] = (),
) -> HandRun:
    """Train `request` once in the project at `root`; `leave_out`: files never counted as inputs (the lineage).

    A function trains into `output_dir` (made if need be); a command writes where it
    writes, and `{output_dir}` is the project's `repro-output/`, the name the twins
    give that folder.  `python_path`: folders a function's process imports from
    besides the project (pytest's `pythonpath` setting).
    """
    root = root.resolve()
    with tempfile.TemporaryDirectory(prefix="repro-run-") as folder:
        record = Path(folder) / "record"
        record.mkdir()
        environment = _recording_environment(os.environ, record, (root, *python_path))
        if request.command is not None:
            return _run_command(request.command, request, root, environment, record, leave_out)
        return _run_function(request, root, output_dir, environment, record, Path(folder), leave_out)


def _recording_environment(
    base: Mapping[str, str], record: Path, python_path: tuple[Path, ...]
) -> dict[str, str]:
    """The user's environment, plus the recorder in every Python process and this interpreter first on PATH."""
    env = dict(base)
    entries = [str(SITE_FOLDER), *(str(path) for path in python_path)]
    entries += [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    env["PYTHONPATH"] = os.pathsep.join(entries)
    env[RECORD_VARIABLE] = str(record)
    interpreter = str(Path(sys.executable).parent)
    rest = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != interpreter]
    env["PATH"] = os.pathsep.join([interpreter, *rest])
    return env


def _run_command(
    training: CommandTraining,
    request: RunRequest,
    root: Path,
    environment: dict[str, str],
    record: Path,
    leave_out: Collection[str],
) -> HandRun:
    own_output = root / OUTPUT_FOLDER
    if "{output_dir}" in training.command:
        own_output.mkdir(exist_ok=True)
    config = request.config_path if request.config_path.is_file() else None
    words = [expand_word(word, request, own_output, config) for word in shlex.split(training.command)]
    if words and words[0] in ("python", "python3"):
        words[0] = sys.executable  # the interpreter repro-run runs in, as for the twins
    before = {name: _stamp(root / name) for name in _matched(training, root)}
    sys.stdout.flush()
    code = subprocess.run(words, cwd=root, env=environment, stdin=subprocess.DEVNULL, check=False).returncode
    if code != 0:
        raise HandRunFailed(f"the training exited with status {code}; no lineage was written")
    outputs, stale = _written(training, root, before)
    events = recorded_events(record, root)
    inputs = inputs_read(events, root, root, {*outputs, *leave_out})
    return HandRun(inputs, {name: str(root / name) for name in outputs}, stale=stale)


def _matched(training: CommandTraining, root: Path) -> list[str]:
    """Every file the output globs match now (and the `{output_dir}` folder's), relative to `root`."""
    found = set()
    for pattern in training.outputs:
        found.update(p.relative_to(root).as_posix() for p in root.glob(pattern) if _regular(p))
    if "{output_dir}" in training.command:
        folder = root / OUTPUT_FOLDER
        found.update(p.relative_to(root).as_posix() for p in folder.rglob("*") if _regular(p))
    return sorted(found)


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _stamp(path: Path) -> tuple[int, ...]:
    status = os.stat(path)
    return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def _written(
    training: CommandTraining, root: Path, before: Mapping[str, tuple[int, ...]]
) -> tuple[list[str], tuple[str, ...]]:
    """The outputs this run wrote, and the files the globs matched that it left as they were (stale)."""
    matched = _matched(training, root)
    written = [name for name in matched if before.get(name) != _stamp(root / name)]
    stale = tuple(name for name in matched if name not in written)
    for pattern in training.outputs:
        if not any(matches_any(name, [pattern]) for name in written):
            raise ContractError(f"repro_outputs {pattern!r} matched no file the command wrote")
    if not written:
        raise ContractError("the command wrote no output file")
    return written, stale


def _run_function(
    request: RunRequest,
    root: Path,
    output_dir: Path,
    environment: dict[str, str],
    record: Path,
    folder: Path,
    leave_out: Collection[str],
) -> HandRun:
    output_dir.mkdir(parents=True, exist_ok=True)
    result_path = folder / RESULT_NAME
    command = [
        sys.executable,
        "-m",
        "pytest_repro.running.hand_run",
        "--entry",
        request.entry,
        "--config",
        str(request.config_path),
        "--output-dir",
        str(output_dir.resolve()),
        "--result",
        str(result_path),
    ]
    if request.seed is not None:
        command += ["--seed", str(request.seed)]
    sys.stdout.flush()
    code = subprocess.run(
        command, cwd=root, env=environment, stdin=subprocess.DEVNULL, check=False
    ).returncode
    if code != 0:
        raise HandRunFailed(f"the training exited with status {code}; no lineage was written")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    if "contract_error" in result:
        raise ContractError(result["contract_error"])
    own = {shown_path(path, root) for path in result["artifacts"].values()}
    events = recorded_events(record, root, own=output_dir)
    lineage = Path(result["lineage"]) if result.get("lineage") else None
    return HandRun(
        inputs_read(events, root, root, {*own, *leave_out}),
        dict(result["artifacts"]),
        folds=result.get("folds"),
        lineage=lineage,
    )


def main(argv: list[str] | None = None) -> int:
    """Subprocess side of a function's hand run: call the entry point, write what it returned as JSON."""
    import argparse

    from pytest_repro.core.entry_points import call_entry_point

    parser = argparse.ArgumentParser(prog="python -m pytest_repro.running.hand_run")
    parser.add_argument("--entry", required=True)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument("--result", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        result: dict[str, Any] = call_entry_point(
            RunRequest(args.entry, args.config, args.seed), args.output_dir
        )
    except ContractError as exc:
        result = {"contract_error": str(exc)}
    except ReproError as exc:  # the training's own one-line error (a bad config)
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_code
    args.result.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
