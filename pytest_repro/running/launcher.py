"""Run one training: in a fresh subprocess (`RunningTraining`) or in this process, and record what it produced.

When and where runs start is the scheduler's and the executor's business (`running.scheduler`,
`running.executor`); this module is what one run is.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pytest_repro.core.entry_points import ContractError, call_entry_point
from pytest_repro.core.environment_names import THREAD_VARIABLES, WORKERS_VARIABLE
from pytest_repro.core.run_records import RunRecord, RunRequest
from pytest_repro.errors import ReproError
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.running import silent_runs
from pytest_repro.running.affinity import inherited_affinity
from pytest_repro.running.isolation import USER_PYTHONPATH_VARIABLE
from pytest_repro.running.parent_watch import naming_parent

RECORD_NAME = "repro-record.json"
TAIL_LINES = 25
# What one run's output may cost the session: a line is kept up to MAX_LINE_CHARS, and at
# most MAX_RELAYED_CHARS are relayed live; the rest is counted and reported, not held.
MAX_LINE_CHARS = 10_000
MAX_RELAYED_CHARS = 1_000_000
# How often a wait for a run wakes to let its sink write out queued lines (see TerminalRelay).
RELAY_SECONDS = 0.2
HASH_SEEDS = ("1", "2")

ProgressSink = Callable[[str, str], None]


class TrainingFailed(ReproError):
    """A run's training raised or exited non-zero; carries the end of its own stderr."""

    def __init__(self, label: str, message: str, tail: str):
        self.label = label
        self.message = message
        self.tail = tail
        super().__init__(f"{label}: {message}\n{tail}".rstrip())


def _record(
    label: str, output_dir: Path, result: Mapping[str, Any], seconds: float, env: dict[str, str]
) -> RunRecord:
    artifacts = {name: Path(path) for name, path in result["artifacts"].items()}
    missing = [f"{name} ({path})" for name, path in artifacts.items() if not path.is_file()]
    if missing:
        raise ContractError(
            f"{label}: the entry point named artifacts that do not exist: {', '.join(missing)}"
        )
    # Hashed once, by the process that trained (see `artifact_hashes`); every check reuses them.
    hashes = result.get("hashes") or artifact_hashes(result)
    return RunRecord(
        label=label,
        output_dir=output_dir,
        artifacts=artifacts,
        hashes={name: hashes[name] for name in artifacts},
        folds=result["folds"],
        metrics=result["metrics"],
        lineage=Path(result["lineage"]) if result["lineage"] else None,
        seconds=seconds,
        environment=env,
        variables_read=_optional_names(result.get("variables_read")),
        events=result.get("events"),
    )


def _optional_names(names: Any) -> tuple[str, ...] | None:
    return tuple(names) if isinstance(names, list) else None


def artifact_hashes(result: Mapping[str, Any]) -> dict[str, str]:
    """SHA-256 of every artifact a run returned, by name.

    The worker computes them right after training, so the two twins hash side by side
    and the session compares digests instead of reading the files again.
    """
    hashes = {}
    for name, path in result["artifacts"].items():
        try:
            hashes[name] = sha256_file(path)
        except OSError:
            continue  # a missing artifact is reported, once, by the plugin's own contract check
    return hashes


RECORDED_LINEAGE_SUFFIX = ".lineage.json"


def with_recorded_lineage(request: RunRequest, output_dir: Path, result: dict[str, Any]) -> dict[str, Any]:
    """Record a lineage for a run that returned none: its config and what it read as inputs, its outputs.

    The inputs are the project's files the run's processes read (the recorder's), and
    the code is the user's commit and dirty flag.  Called in the process that trained, so the environment it records (libraries, BLAS)
    is the training's.  The manifest sits beside the run's folder, never in it, so it
    cannot collide with a file the training wrote.  Any project thus gets the lineage
    checks without writing a line of lineage code.
    """
    artifacts = [Path(artifact) for artifact in result["artifacts"].values()]
    if result.get("lineage") or not all(artifact.is_file() for artifact in artifacts):
        return result  # a missing artifact is reported, once, by the plugin's own contract check
    path = write_run_lineage(
        output_dir.parent / f"{output_dir.name}{RECORDED_LINEAGE_SUFFIX}",
        request,
        inputs=result.get("inputs") or {},
        outputs=result["artifacts"],
        folds=result.get("folds"),
        signing_key=None,
    )
    return {**result, "lineage": str(path)}


def write_run_lineage(
    path: Path,
    request: RunRequest,
    *,
    inputs: Mapping[str, str | Path],
    outputs: Mapping[str, str | Path],
    folds: Any = None,
    **options: Any,
) -> Path:
    """Write the lineage of one run of `request`: the one place a recorded lineage's names are chosen.

    The twins' recorded lineages and `repro-run`'s name things alike, so that a replay
    pairs them by name: the config as `config` (when it is a file), every other file
    the run read by its path relative to the project, each output by its name (a
    command's: its path relative to the project), and the code as the user's git
    commit and dirty flag.  `options` go to `write_lineage` (`signing_key`).
    """
    from pytest_repro.lineage.environment import code_version
    from pytest_repro.lineage.writing import write_lineage

    project = request.project.root if request.project is not None else None
    if "code" not in options:
        options["code"] = code_version(project) if project is not None else None
    return write_lineage(
        path,
        inputs=lineage_inputs(request.config_path, inputs, project),
        outputs={name: Path(output) for name, output in outputs.items()},
        seed=request.seed,
        folds=folds,
        **options,
    )


def lineage_inputs(
    config_path: Path, read: Mapping[str, str | Path], project: Path | None
) -> dict[str, Path]:
    """A run's inputs by name: its config as `config`, then each file it read (relative path -> file)."""
    config = config_path.resolve() if config_path.is_file() else None
    shown_config = _relative_to(config, project) if config is not None else None
    inputs: dict[str, Path] = {"config": config_path} if config is not None else {}
    for name, path in read.items():
        if name != shown_config and Path(path).resolve() != config:
            inputs[name] = Path(path)
    return inputs


def _relative_to(path: Path, root: Path | None) -> str | None:
    if root is None:
        return None
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def train_once(
    request: RunRequest,
    output_dir: Path,
    read_inputs: Callable[[Mapping[str, Any]], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Train once into `output_dir`, a function or a command, and return the contract's mapping.

    Runs in the training's own process (the worker), or in this one for in-process
    isolation; a run that returned no lineage gets one recorded here.  `read_inputs`
    says, once a function has trained, which of the project's files it read (the
    worker's recorder); a command's run knows that itself.
    """
    if request.command is not None:
        from pytest_repro.core.entry_points import normalise_result
        from pytest_repro.running.command_training import run_command_training

        trained = run_command_training(request.command, request, output_dir)
        result = {**normalise_result(trained, output_dir), "inputs": trained["inputs"]}
    else:
        result = call_entry_point(request, output_dir)
        if read_inputs is not None:
            result["inputs"] = read_inputs(result)
    return with_recorded_lineage(request, output_dir, result)


class _ProcessExitCalled(BaseException):
    """A training called os._exit in this process; a BaseException so its own `except Exception` misses it."""

    def __init__(self, code: int):
        self.code = code
        super().__init__(code)


@contextlib.contextmanager
def _no_process_exit() -> Iterator[None]:
    """Turn os._exit into an exception while an in-process training runs.

    os._exit ends the interpreter at once, without pytest's report: the session would
    end with status 0 and no results, a false pass.  A subprocess run shows it as its
    exit status; in this process, the call is caught here and fails the run instead.
    """
    real_exit = os._exit

    def refuse(code: int) -> None:
        raise _ProcessExitCalled(code)

    os._exit = refuse  # type: ignore[assignment]
    try:
        yield
    finally:
        os._exit = real_exit


def run_inprocess(request: RunRequest, output_dir: Path, label: str) -> RunRecord:
    """Train in this interpreter: fast, but shares its global state (for debugging and fuzzing)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        with _no_process_exit():
            result = train_once(request, output_dir)
    except _ProcessExitCalled as exc:
        raise TrainingFailed(
            label,
            f"training called os._exit({exc.code}), which would end the pytest session itself with no "
            "results; run it with --repro-isolation subprocess to see its exit status",
            "",
        ) from None
    except ContractError:
        raise
    except SystemExit as exc:  # a command training exited non-zero
        raise TrainingFailed(label, f"training exited with status {exc.code}", "") from None
    except Exception as exc:
        raise TrainingFailed(label, f"training raised {type(exc).__name__}: {exc}", "") from exc
    return _record(label, output_dir, result, time.perf_counter() - started, {})


def subprocess_environment(
    hash_seed: str, threads: int, extra: Mapping[str, str] | None = None, workers: int | None = None
) -> dict[str, str]:
    """Return the environment of a run: its own hash seed and its share of the cores.

    The share is given twice: as the BLAS/OpenMP thread count and as `REPRO_WORKERS`,
    the worker processes a training may start (`workers`, by default the same number).
    """
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = hash_seed
    # The interpreter caches a module's bytecode beside its source (`__pycache__`) when the cache is
    # missing or stale; in the user's project that is a write the run's guard must refuse, failing
    # a sound run.  A run reads the caches that exist and writes none.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    env[WORKERS_VARIABLE] = str(threads if workers is None else workers)
    # The worker imports what pytest imports; the training's own processes get the user's PYTHONPATH back.
    env.setdefault(USER_PYTHONPATH_VARIABLE, os.environ.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.getcwd(), *sys.path] if p)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.update(extra or {})
    return env


class RunningTraining:
    """A training subprocess whose stderr is relayed line by line and whose tail is kept.

    The local `executor.RunHandle`: only `executor.LocalExecutor` starts one.
    """

    def __init__(
        self,
        request: RunRequest,
        output_dir: Path,
        label: str,
        env: dict[str, str],
        sink: ProgressSink | None,
        cwd: Path,
        umask: int | None = None,
        cpus: frozenset[int] | None = None,
    ):
        output_dir.mkdir(parents=True, exist_ok=True)
        self.label = label
        self.output_dir = output_dir
        self.record_path = output_dir.parent / f"{output_dir.name}.{RECORD_NAME}"
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.env_summary = {k: env[k] for k in ("PYTHONHASHSEED", "OMP_NUM_THREADS")}
        command = [
            sys.executable,
            "-m",
            "pytest_repro.running.worker",
            "--entry",
            request.entry,
            "--config",
            str(request.config_path),
            "--output-dir",
            str(output_dir),
            "--record",
            str(self.record_path),
        ]
        if request.seed is not None:
            command += ["--seed", str(request.seed)]
        if request.overrides:
            command += ["--overrides", json.dumps(dict(request.overrides))]
        if request.command is not None:
            command += ["--command", json.dumps(request.command.to_json())]
        if request.project is not None:
            command += ["--project", json.dumps(request.project.to_json())]
        self.started = time.perf_counter()
        self.finished_at: float | None = None  # when its output ended: the process exited
        self.last_output = self.started  # when it last printed a line (see say_if_quiet)
        self._said_quiet = False
        self.timeout = request.timeout
        with inherited_affinity(cpus):  # the `cpus` variation: the run is born on fewer CPUs
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=naming_parent(env),  # the worker ends with this process (see running.parent_watch)
                umask=-1 if umask is None else umask,
                # Its own process group, so a timeout also ends what the training started (a command's script).
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        self._sink = sink
        self._reader = threading.Thread(target=self._relay, args=(sink,), daemon=True)
        self._reader.start()

    def _relay(self, sink: ProgressSink | None) -> None:
        """Keep the tail and relay lines, each cut at MAX_LINE_CHARS, at most MAX_RELAYED_CHARS in all.

        Reading in bounded pieces keeps memory flat whatever the training prints (a
        single 300 MB line included); what is dropped is counted and said at the end.
        """
        assert self.process.stdout is not None
        relayed = cut = unrelayed = 0
        for line, dropped in _bounded_lines(self.process.stdout, MAX_LINE_CHARS):
            cut += dropped
            line = line.split("\r")[-1]
            if not line:
                continue
            self.last_output = time.perf_counter()
            self.tail.append(line)
            if sink is not None:
                if relayed + len(line) <= MAX_RELAYED_CHARS:
                    sink(self.label, line)
                    relayed += len(line)
                else:
                    unrelayed += len(line)
        note = _dropped_note(cut, unrelayed)
        if note:
            self.tail.append(note)
            if sink is not None:
                sink(self.label, note)
        self.finished_at = time.perf_counter()

    def wait(self) -> RunRecord:
        code = self._wait_for_exit()
        if code is None:
            self.cancel()
            self._reader.join()
            self._drain()
            raise TrainingFailed(
                self.label,
                f"training did not finish within {self.timeout:g} s (repro_timeout) and was stopped; "
                "the end of its output:",
                "\n".join(self.tail),
            )
        self._reader.join()
        self._drain()
        # Timed to the process's end, not to this call: a run started ahead may be read much later.
        seconds = (self.finished_at or time.perf_counter()) - self.started
        tail = "\n".join(self.tail)
        if code != 0:
            raise TrainingFailed(
                self.label, f"training exited with status {code}; the end of its output:", tail
            )
        try:
            data = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise TrainingFailed(self.label, "training wrote no run record", tail) from None
        if "contract_error" in data:
            raise ContractError(f"{self.label}: {data['contract_error']}")
        return _record(self.label, self.output_dir, data, seconds, self.env_summary)

    def _wait_for_exit(self) -> int | None:
        """The run's exit status, or None when it outlived its timeout.

        Wakes every RELAY_SECONDS meanwhile to let the sink write out the lines its
        reader thread queued (`TerminalRelay.drain`).  The limit counts from the run's
        start: a run started ahead of its checks gets no extra time.
        """
        while True:
            remaining = None if self.timeout is None else self.timeout - (time.perf_counter() - self.started)
            if remaining is not None and remaining <= 0:
                return self.process.poll()
            step = RELAY_SECONDS if remaining is None else min(RELAY_SECONDS, remaining)
            try:
                return self.process.wait(timeout=step)
            except subprocess.TimeoutExpired:
                self.say_if_quiet()
                self._drain()

    def say_if_quiet(self) -> None:
        """Once per run: name a run that has printed nothing for a while, and its limit (`silent_runs`)."""
        now = time.perf_counter()
        if self._said_quiet or self._sink is None or now - self.last_output < silent_runs.QUIET_SECONDS:
            return
        self._said_quiet = True
        note = silent_runs.note(now - self.started, now - self.last_output, self.timeout)
        self._sink(self.label, note)

    def _drain(self) -> None:
        drain = getattr(self._sink, "drain", None)
        if drain is not None:
            drain()

    def exited(self) -> bool:
        """Whether the process has exited."""
        return self.process.poll() is not None

    def overdue(self) -> bool:
        """Whether the run has outlived its timeout (repro_timeout), counted from its start."""
        return self.timeout is not None and time.perf_counter() - self.started >= self.timeout

    def cancel(self) -> None:
        """Stop the run and every process it started (its process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
            self.process.wait()


def _bounded_lines(stream: Any, limit: int) -> Iterator[tuple[str, int]]:
    """Yield each line (without its newline) cut at `limit` characters, and how many were cut from it.

    Reads in pieces of at most `limit` + 1 characters, so a line of any length costs
    that much memory, not its own size.
    """
    while True:
        piece = stream.readline(limit + 1)
        if not piece:
            return
        if piece.endswith("\n") or len(piece) <= limit:
            yield piece.rstrip("\n"), 0
            continue
        head, dropped = piece[:limit], len(piece) - limit
        while not piece.endswith("\n"):
            piece = stream.readline(limit + 1)
            if not piece:
                break
            dropped += len(piece.rstrip("\n"))
        yield head, dropped


def _dropped_note(cut: int, unrelayed: int) -> str:
    """Say what output was not kept, or nothing when everything was."""
    parts = []
    if cut:
        parts.append(f"{cut} characters cut from lines longer than {MAX_LINE_CHARS}")
    if unrelayed:
        parts.append(f"{unrelayed} characters not relayed past the first {MAX_RELAYED_CHARS}")
    return f"[pytest-repro: output dropped: {'; '.join(parts)}]" if parts else ""
