"""Find which variation of the environment breaks reproducibility, as reproducible-builds tools do.

A *variation* names one thing that differs between a reference run and a varied run
of the same training (same entry point, config and seed):

    hashseed   PYTHONHASHSEED 1 -> 2: the iteration order of sets of strings
    threads    BLAS/OpenMP threads (OMP_NUM_THREADS and friends) 1 -> max(2, cores)
    n_jobs     REPRO_N_JOBS 1 -> 2, for entry points that pass it to their estimators
    cwd        the working directory: the project folder -> an empty folder elsewhere
    path       the project's absolute location: config, the files it names, their pin
               registry and the entry module's package are copied to another folder
               and trained from there (the working directory stays put, see below)
    tz         TZ=UTC -> GMT-14 (UTC+14)
    locale     LC_ALL/LANG C.UTF-8 -> another installed locale (C if it is the only one)
    umask      022 -> 002
    home       HOME -> an empty folder
    row_order  REPRO_ROW_ORDER_SEED unset -> 1: the entry point feeds its rows in a
               shuffled order.  A model may legitimately depend on row order, so this
               one reports how far each metric moved instead of failing.

The reference run pins every one of these to its reference value, so a comparison
differs in exactly what was varied.  Every run also gets PYTHONSAFEPATH=1, so that
the working directory is not put on `sys.path`: the entry module is imported from
where PYTHONPATH says (the project, or its moved copy), whatever the cwd.

Auto mode: one run with every variation (except row_order) applied at once is
compared with the reference; only if it differs is each variation trained alone,
together with a *control* (the reference again) that tells a variation apart from
plain run-to-run non-determinism.  An all-clear costs two trainings (three with
row_order).

`repro-vary` is the command line; `pytest --repro --repro-vary=...` turns the same
computation into one test item per variation.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.diagnose.diagnostics import Difference
from pytest_repro.running.launcher import (
    THREAD_VARIABLES,
    ContractError,
    ProgressSink,
    RunningTraining,
    RunRecord,
    RunRequest,
    TrainingFailed,
    subprocess_environment,
)

VARIATIONS: dict[str, str] = {
    "hashseed": "PYTHONHASHSEED: the iteration order of sets (and dicts built from them) of strings",
    "threads": "BLAS/OpenMP thread count (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, ...)",
    "n_jobs": "REPRO_N_JOBS: the n_jobs an entry point gives its estimators (if it reads the variable)",
    "cwd": "the working directory",
    "path": "the project's absolute path (config, data, pins and entry package copied elsewhere)",
    "tz": "TZ: the local time zone",
    "locale": "LC_ALL and LANG",
    "umask": "the file-creation mask",
    "home": "HOME",
    "row_order": "REPRO_ROW_ORDER_SEED: the order of the dataset's rows (reported, never a failure)",
}
INFORMATIONAL = frozenset({"row_order"})
N_JOBS_VARIABLE = "REPRO_N_JOBS"
ROW_ORDER_VARIABLE = "REPRO_ROW_ORDER_SEED"
ROW_ORDER_SEED = "1"
REFERENCE_TZ, VARIED_TZ = "UTC", "GMT-14"
REFERENCE_UMASK, VARIED_UMASK = 0o022, 0o002
# Tried in order for the varied locale; the first installed one wins (Turkish first,
# for its dotted and dotless i).
LOCALE_CANDIDATES = ("tr_TR.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8", "en_US.UTF-8", "C.UTF-8", "C")
# Parameters a variation changes on purpose; a model that differs only in them is reproducible.
EXPECTED_PARAMETERS = {"n_jobs": ("n_jobs",)}
TABLE_DETAIL = 90

Notify = Callable[[str], None]


class VariationError(Exception):
    """The variations could not be compared: a usage error, or the reference training failed."""


# ----------------------------------------------------------------------------- selection


def parse_selection(text: str, source: str = "--vary") -> tuple[str, ...]:
    """Turn `all` or a comma list into variation names in catalogue order; unknown names are errors."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise VariationError(
            f"{source}: got {text!r}; expected all or a comma list of {', '.join(VARIATIONS)}"
        )
    if "all" in parts:
        return tuple(VARIATIONS)
    unknown = [part for part in parts if part not in VARIATIONS]
    if unknown:
        import difflib

        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, VARIATIONS, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise VariationError(
            f"{source}: unknown variation {', '.join(hints)}; expected all or some of {', '.join(VARIATIONS)}"
        )
    return tuple(name for name in VARIATIONS if name in parts)


# ----------------------------------------------------------------------------- run specs


@dataclass(frozen=True)
class RunSpec:
    """How one run is started: what it trains, its environment changes, working directory and umask."""

    request: RunRequest
    env: Mapping[str, str | None] = field(default_factory=dict)  # None removes a variable
    cwd: Path = Path()
    umask: int = REFERENCE_UMASK
    import_first: Path | None = None  # put before everything else on PYTHONPATH


@dataclass(frozen=True)
class Side:
    """One side of a variation: its description and what it changes in a run spec."""

    description: str
    env: Mapping[str, str | None] = field(default_factory=dict)
    cwd: Path | None = None
    umask: int | None = None
    moved: MovedProject | None = None

    def apply(self, spec: RunSpec) -> RunSpec:
        """Return `spec` with this side's settings."""
        changes: dict[str, Any] = {"env": {**spec.env, **self.env}}
        if self.cwd is not None:
            changes["cwd"] = self.cwd
        if self.umask is not None:
            changes["umask"] = self.umask
        if self.moved is not None:
            changes["request"] = dataclasses.replace(spec.request, config_path=self.moved.config_path)
            changes["import_first"] = self.moved.root
        return dataclasses.replace(spec, **changes)


@dataclass(frozen=True)
class MovedProject:
    """A copy of the project's training inputs in another folder, for the `path` variation."""

    root: Path
    config_path: Path
    copied: tuple[str, ...]
    code_moved: bool


class Workspace:
    """The folders and machine facts the variations are built from."""

    def __init__(self, request: RunRequest, folder: Path, project_root: Path, cwd: Path):
        self.request = request
        self.folder = folder
        self.project_root = project_root.resolve()
        self.cwd = cwd
        self.cores = os.cpu_count() or 1
        self.home = os.environ.get("HOME") or str(Path.home())
        self._locales: tuple[str, str] | None = None
        self._moved: MovedProject | None = None

    def locales(self) -> tuple[str, str]:
        """Return (reference, varied) locale names among those installed."""
        if self._locales is None:
            self._locales = choose_locales(installed_locales())
        return self._locales

    def moved(self) -> MovedProject:
        """Copy the project once, on first use."""
        if self._moved is None:
            self._moved = move_project(
                self.request, self.project_root, self.cwd, self.folder / "moved" / self.project_root.name
            )
        return self._moved

    def empty_folder(self, name: str) -> Path:
        """Create (once) and return a folder of the workspace that holds nothing of the project."""
        path = self.folder / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def sides(name: str, ws: Workspace, *, varied: bool = True) -> tuple[Side, Side | None]:
    """Return the reference side of variation `name` and, if asked, its varied side."""
    if name == "hashseed":
        pair = (Side("PYTHONHASHSEED=1", {"PYTHONHASHSEED": "1"}), lambda: Side("2", {"PYTHONHASHSEED": "2"}))
    elif name == "threads":
        many = str(max(2, ws.cores))
        pair = (
            Side("1 BLAS/OpenMP thread", dict.fromkeys(THREAD_VARIABLES, "1")),
            lambda: Side(f"{many} threads", dict.fromkeys(THREAD_VARIABLES, many)),
        )
    elif name == "n_jobs":
        pair = (
            Side(f"{N_JOBS_VARIABLE}=1", {N_JOBS_VARIABLE: "1"}),
            lambda: Side("2", {N_JOBS_VARIABLE: "2"}),
        )
    elif name == "cwd":
        pair = (
            Side(_shown(ws.cwd, ws.project_root), cwd=ws.cwd),
            lambda: Side("an empty folder elsewhere", cwd=ws.empty_folder("elsewhere")),
        )
    elif name == "path":
        pair = (Side("the project folder"), lambda: _moved_side(ws.moved()))
    elif name == "tz":
        pair = (Side(f"TZ={REFERENCE_TZ}", {"TZ": REFERENCE_TZ}), lambda: Side(VARIED_TZ, {"TZ": VARIED_TZ}))
    elif name == "locale":
        reference, other = ws.locales()
        pair = (
            Side(f"LC_ALL={reference}", {"LC_ALL": reference, "LANG": reference, "LANGUAGE": None}),
            lambda: Side(other, {"LC_ALL": other, "LANG": other, "LANGUAGE": None}),
        )
    elif name == "umask":
        pair = (
            Side(f"umask {REFERENCE_UMASK:03o}", umask=REFERENCE_UMASK),
            lambda: Side(f"{VARIED_UMASK:03o}", umask=VARIED_UMASK),
        )
    elif name == "home":
        pair = (
            Side("the user's HOME", {"HOME": ws.home}),
            lambda: Side("an empty folder", {"HOME": str(ws.empty_folder("home"))}),
        )
    elif name == "row_order":
        pair = (
            Side("rows in file order", {ROW_ORDER_VARIABLE: None}),
            lambda: Side(
                f"shuffled ({ROW_ORDER_VARIABLE}={ROW_ORDER_SEED})", {ROW_ORDER_VARIABLE: ROW_ORDER_SEED}
            ),
        )
    else:
        raise VariationError(f"unknown variation {name!r}")
    reference, make_varied = pair
    return reference, make_varied() if varied else None


def _moved_side(moved: MovedProject) -> Side:
    code = "" if moved.code_moved else " (the entry module stays: it is not in the project)"
    return Side(f"a copy in another folder{code}", moved=moved)


def reference_spec(ws: Workspace) -> RunSpec:
    """The reference run: every variation at its reference value."""
    spec = RunSpec(ws.request, cwd=ws.cwd)
    for name in VARIATIONS:
        spec = sides(name, ws, varied=False)[0].apply(spec)
    return spec


def varied_spec(reference: RunSpec, names: Iterable[str], ws: Workspace) -> RunSpec:
    """The reference run with the named variations applied."""
    spec = reference
    for name in names:
        varied = sides(name, ws)[1]
        assert varied is not None
        spec = varied.apply(spec)
    return spec


def describe(name: str, ws: Workspace) -> tuple[str, str]:
    """Return the reference and varied descriptions of variation `name`."""
    reference, varied = sides(name, ws)
    assert varied is not None
    return reference.description, varied.description


# ----------------------------------------------------------------------------- machine facts


def installed_locales() -> tuple[str, ...]:
    """Return the names `locale -a` lists (empty when the command is missing)."""
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in listed.stdout.splitlines() if line.strip())


def choose_locales(installed: Sequence[str]) -> tuple[str, str]:
    """Pick the reference locale (C.UTF-8 if installed, else C) and a different installed one."""
    normal = {_normal_locale(name): name for name in installed}
    reference = "C.UTF-8" if _normal_locale("C.UTF-8") in normal else "C"
    for candidate in LOCALE_CANDIDATES:
        if _normal_locale(candidate) in normal and _normal_locale(candidate) != _normal_locale(reference):
            return reference, normal[_normal_locale(candidate)]
    return reference, "C" if reference != "C" else "POSIX"


def _normal_locale(name: str) -> str:
    return name.lower().replace("-", "")


# ----------------------------------------------------------------------------- moving the project


def move_project(request: RunRequest, project_root: Path, cwd: Path, destination: Path) -> MovedProject:
    """Copy what the training reads to `destination`, keeping each file's place relative to the project.

    Copied: the config file; every existing file the config names by a path relative to
    its folder (as a YAML string anywhere in it) that lies inside the project, with the
    dataset pin registry beside it; and the entry module (its top-level package folder,
    or its single .py file) when it lives in the project or the working directory.
    Anything else (other modules, absolute paths in the config) stays where it is.
    """
    from pytest_repro.lineage.pins import PINS_FILE

    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    copied: list[str] = []

    def copy(source: Path) -> None:
        relative = _inside(source.resolve(), project_root) or Path(source.name)
        target = destination / relative
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            copied.append(f"{relative.as_posix()}/")
        else:
            shutil.copy2(source, target)
            copied.append(relative.as_posix())

    config_path = request.config_path
    copy(config_path)
    for named in _named_files(config_path, project_root):
        copy(named)
        registry = named.parent / PINS_FILE
        if registry.is_file():
            copy(registry)
    module = _entry_module_path(request.entry, project_root, cwd)
    if module is not None:
        copy(module)
    relative_config = _inside(config_path.resolve(), project_root) or Path(config_path.name)
    return MovedProject(destination, destination / relative_config, tuple(copied), module is not None)


def _named_files(config_path: Path, project_root: Path) -> list[Path]:
    try:
        import yaml

        data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except Exception:
        return []
    found = []
    for value in _strings(data):
        if not value or len(value) > 4096 or "\n" in value or Path(value).is_absolute():
            continue
        candidate = (config_path.parent / value).resolve()
        try:
            exists = candidate.is_file()
        except OSError:
            continue
        if exists and _inside(candidate, project_root) is not None and candidate not in found:
            found.append(candidate)
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _entry_module_path(entry: str, project_root: Path, cwd: Path) -> Path | None:
    top = entry.partition(":")[0].split(".")[0]
    for folder in dict.fromkeys([cwd.resolve(), project_root]):
        package, module = folder / top, folder / f"{top}.py"
        if (package / "__init__.py").is_file():
            return package
        if module.is_file():
            return module
    return None


def _inside(path: Path, root: Path) -> Path | None:
    try:
        return path.relative_to(root)
    except ValueError:
        return None


def _shown(path: Path, root: Path) -> str:
    relative = _inside(path.resolve(), root)
    if relative is None:
        return str(path)
    return "the project folder" if relative == Path() else relative.as_posix()


# ----------------------------------------------------------------------------- training


def run_environment(spec: RunSpec) -> dict[str, str]:
    """The full environment of a run: the plugin's subprocess environment with the spec's changes."""
    env = subprocess_environment("1", 1)
    for name, value in spec.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    # The working directory must not decide where the entry module is imported from.
    env["PYTHONSAFEPATH"] = "1"
    if spec.import_first is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(spec.import_first), env.get("PYTHONPATH", "")])
    return env


def train_specs(
    specs: Mapping[str, RunSpec],
    folder: Path,
    *,
    sink: ProgressSink | None = None,
    parallel: int | None = None,
) -> dict[str, RunRecord | TrainingFailed | ContractError]:
    """Train each spec in a fresh interpreter, at most `parallel` at a time; failures are returned."""
    limit = parallel or max(2, os.cpu_count() or 1)
    pending = list(specs.items())
    running: dict[str, RunningTraining] = {}
    results: dict[str, RunRecord | TrainingFailed | ContractError] = {}
    try:
        while pending or running:
            while pending and len(running) < limit:
                label, spec = pending.pop(0)
                output = folder / label
                if output.exists():
                    shutil.rmtree(output)
                try:
                    running[label] = RunningTraining(
                        spec.request, output, label, run_environment(spec), sink, spec.cwd, umask=spec.umask
                    )
                except OSError as exc:
                    results[label] = TrainingFailed(label, f"could not start: {exc}", "")
            finished = [label for label, run in running.items() if run.process.poll() is not None]
            if not finished:
                time.sleep(0.02)
            for label in finished:
                try:
                    results[label] = running.pop(label).wait()
                except (TrainingFailed, ContractError) as exc:
                    results[label] = exc
    finally:
        for run in running.values():
            run.kill()
    return {label: results[label] for label in specs}


# ----------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    """What one varied run showed, compared with the reference."""

    name: str
    reference: str
    varied: str
    status: str  # identical | differs | failed | inconclusive | changed | unchanged
    tested: str  # alone | together
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    metric_deltas: Mapping[str, float] | None = None
    note: str = ""

    @property
    def broke(self) -> bool:
        """Whether this outcome means reproducibility broke (row_order never does)."""
        return self.status in ("differs", "failed", "inconclusive")

    def what_differed(self) -> str:
        """One line: the subjects that differ and the first summary, or the row-order deltas."""
        if self.error:
            return f"training failed: {self.error.splitlines()[0]}"
        subjects = ", ".join(dict.fromkeys(d.subject for d in self.differences))
        if self.metric_deltas:
            # Whole-number moves are counts (a confusion matrix); the scores say more in one line.
            scores = {k: v for k, v in self.metric_deltas.items() if v != int(v)} or self.metric_deltas
            largest = sorted(scores.items(), key=lambda item: -item[1])[:3]
            moved = ", ".join(f"{pointer} {delta:.3g}" for pointer, delta in largest)
            return f"{subjects} changed; {len(self.metric_deltas)} metrics moved, e.g. |Δ| {moved}"
        if not self.differences:
            return self.note
        return f"{subjects}: {self.differences[0].summary}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reference": self.reference,
            "varied": self.varied,
            "status": self.status,
            "tested": self.tested,
            "differences": [
                {"subject": d.subject, "summary": d.summary, "details": list(d.details)}
                for d in self.differences
            ],
            "error": self.error,
            "metric_deltas": dict(self.metric_deltas) if self.metric_deltas is not None else None,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            name=data["name"],
            reference=data["reference"],
            varied=data["varied"],
            status=data["status"],
            tested=data["tested"],
            differences=tuple(
                Difference(d["subject"], d["summary"], tuple(d["details"])) for d in data["differences"]
            ),
            error=data["error"],
            metric_deltas=data["metric_deltas"],
            note=data.get("note", ""),
        )


@dataclass(frozen=True)
class VariationReport:
    """The auto-mode result: per variation, whether the output stayed the same and what changed."""

    entry: str
    config: str
    seed: int | None
    tolerance: float
    selected: tuple[str, ...]
    outcomes: dict[str, Outcome]
    combined: Outcome | None
    control: Outcome | None
    trainings: int
    moved: tuple[str, ...] = ()
    moved_to: str = ""

    @property
    def interaction(self) -> bool:
        """The combined run differs although no variation alone does."""
        checked = [o for o in self.outcomes.values() if o.name not in INFORMATIONAL]
        return (
            self.combined is not None
            and self.combined.broke
            and not (self.control is not None and self.control.broke)
            and bool(checked)
            and all(o.status == "identical" and o.tested == "alone" for o in checked)
        )

    @property
    def reproducible(self) -> bool:
        """No variation (row_order aside) changed the output, alone or combined."""
        if self.interaction or (self.control is not None and self.control.broke):
            return False
        return not any(o.broke for o in self.outcomes.values())

    def broken(self) -> list[str]:
        """Names of the variations that changed the output."""
        return [name for name, outcome in self.outcomes.items() if outcome.broke]

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "config": self.config,
            "seed": self.seed,
            "tolerance": self.tolerance,
            "selected": list(self.selected),
            "reproducible": self.reproducible,
            "broken_by": self.broken(),
            "interaction": self.interaction,
            "trainings": self.trainings,
            "combined": self.combined.to_json() if self.combined else None,
            "control": self.control.to_json() if self.control else None,
            "variations": [outcome.to_json() for outcome in self.outcomes.values()],
            "moved": list(self.moved),
            "moved_to": self.moved_to,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VariationReport:
        outcomes = [Outcome.from_json(item) for item in data["variations"]]
        return cls(
            entry=data["entry"],
            config=data["config"],
            seed=data["seed"],
            tolerance=data["tolerance"],
            selected=tuple(data["selected"]),
            outcomes={outcome.name: outcome for outcome in outcomes},
            combined=Outcome.from_json(data["combined"]) if data["combined"] else None,
            control=Outcome.from_json(data["control"]) if data["control"] else None,
            trainings=data["trainings"],
            moved=tuple(data.get("moved", ())),
            moved_to=data.get("moved_to", ""),
        )


def compare_outcome(
    name: str,
    reference: RunRecord,
    result: RunRecord | Exception,
    varied_names: Sequence[str],
    descriptions: tuple[str, str],
    tested: str,
    tolerance: float,
) -> Outcome:
    """Compare a varied run with the reference and classify the result."""
    from pytest_repro.diagnose.compare import compare_runs
    from pytest_repro.diagnose.digests import metric_deltas

    if isinstance(result, Exception):
        return Outcome(name, *descriptions, "failed", tested, error=str(result))
    differences = compare_runs(reference, result, tolerance)
    differences, note = _without_expected(differences, reference, result, varied_names)
    if name in INFORMATIONAL:
        deltas = metric_deltas(reference.metrics, result.metrics)
        status = "changed" if differences else "unchanged"
        if not differences:
            note = f"no output changed: order-independent, or the entry point ignores {ROW_ORDER_VARIABLE}"
        return Outcome(
            name, *descriptions, status, tested, tuple(differences), metric_deltas=deltas, note=note
        )
    status = "differs" if differences else "identical"
    return Outcome(name, *descriptions, status, tested, tuple(differences), note=note)


def _without_expected(
    differences: list[Difference], a: RunRecord, b: RunRecord, varied_names: Sequence[str]
) -> tuple[list[Difference], str]:
    """Drop a model difference that lies only in parameters a variation sets on purpose (n_jobs)."""
    from pytest_repro.diagnose.digests import model_digest

    ignored = tuple(p for name in varied_names for p in EXPECTED_PARAMETERS.get(name, ()))
    model = next((d for d in differences if d.subject == "model"), None)
    if not ignored or model is None or "model" not in a.artifacts or "model" not in b.artifacts:
        return differences, ""
    if model_digest(a.artifacts["model"], ignored) != model_digest(b.artifacts["model"], ignored):
        return differences, ""
    kept = [d for d in differences if d is not model]
    return kept, f"the model differs only in {', '.join(ignored)} (set by the variation)"


# ----------------------------------------------------------------------------- auto mode


def run_variations(
    request: RunRequest,
    names: Sequence[str],
    folder: Path,
    *,
    project_root: Path,
    cwd: Path | None = None,
    tolerance: float = 0.0,
    sink: ProgressSink | None = None,
    notify: Notify | None = None,
    parallel: int | None = None,
) -> VariationReport:
    """Compare the reference with all variations at once, then, only if that differs, each alone."""
    names = tuple(name for name in VARIATIONS if name in names)
    if not names:
        raise VariationError("no variation selected")
    folder.mkdir(parents=True, exist_ok=True)
    ws = Workspace(request, folder, project_root, cwd or Path.cwd())
    tell = notify or (lambda message: None)
    checked = [name for name in names if name not in INFORMATIONAL]
    reference = reference_spec(ws)
    descriptions = {name: describe(name, ws) for name in names}
    first: dict[str, RunSpec] = {"reference": reference}
    combined_label = "all" if len(checked) > 1 else (checked[0] if checked else None)
    if combined_label is not None:
        first[combined_label] = varied_spec(reference, checked, ws)
    for name in names:
        if name in INFORMATIONAL:
            first[name] = varied_spec(reference, [name], ws)
    tell(f"training {len(first)} runs: {', '.join(first)}")
    records = train_specs(first, folder / "runs", sink=sink, parallel=parallel)
    trainings = len(first)
    ref = records["reference"]
    if isinstance(ref, Exception):
        raise VariationError(f"the reference training failed, so nothing can be compared:\n{ref}")

    outcomes: dict[str, Outcome] = {}
    for name in names:
        if name in INFORMATIONAL:
            outcomes[name] = compare_outcome(
                name, ref, records[name], [name], descriptions[name], "alone", tolerance
            )
    combined = None
    if combined_label == "all":
        combined = compare_outcome(
            "all",
            ref,
            records["all"],
            checked,
            ("reference", f"{len(checked)} variations at once"),
            "together",
            tolerance,
        )
    elif combined_label is not None:
        outcomes[combined_label] = compare_outcome(
            combined_label,
            ref,
            records[combined_label],
            checked,
            descriptions[combined_label],
            "alone",
            tolerance,
        )

    control = None
    first_broke = combined.broke if combined is not None else any(outcomes[n].broke for n in checked)
    if checked and first_broke:
        second: dict[str, RunSpec] = {"control": reference}
        if combined is not None:
            second.update({name: varied_spec(reference, [name], ws) for name in checked})
        tell(f"the output changed; training {len(second)} runs to find the cause: {', '.join(second)}")
        more = train_specs(second, folder / "runs", sink=sink, parallel=parallel)
        trainings += len(second)
        control = compare_outcome(
            "control", ref, more["control"], [], ("reference", "reference again"), "alone", tolerance
        )
        if combined is not None:
            for name in checked:
                outcomes[name] = compare_outcome(
                    name, ref, more[name], [name], descriptions[name], "alone", tolerance
                )
        if control.broke:
            outcomes = {
                name: dataclasses.replace(outcome, status="inconclusive")
                if name not in INFORMATIONAL and outcome.status == "differs"
                else outcome
                for name, outcome in outcomes.items()
            }
    elif combined is not None:
        for name in checked:
            outcomes[name] = Outcome(name, *descriptions[name], "identical", "together")

    return VariationReport(
        entry=request.entry,
        config=str(request.config_path),
        seed=request.seed,
        tolerance=tolerance,
        selected=names,
        outcomes={name: outcomes[name] for name in names},
        combined=combined,
        control=control,
        trainings=trainings,
        moved=ws.moved().copied if "path" in names else (),
        moved_to=str(ws.moved().root) if "path" in names else "",
    )


# ----------------------------------------------------------------------------- rendering


def table_lines(report: VariationReport) -> list[str]:
    """The variation | reference -> varied | result | what differed table, then the verdict."""
    rows = [("variation", "reference -> varied", "result", "what differed")]
    for outcome in report.outcomes.values():
        status = (
            outcome.status if outcome.tested == "alone" or outcome.status != "identical" else "identical*"
        )
        rows.append(
            (outcome.name, f"{outcome.reference} -> {outcome.varied}", status, _cut(outcome.what_differed()))
        )
    if report.combined is not None:
        rows.append(
            (
                "(all at once)",
                f"reference -> {', '.join(c for c in report.selected if c not in INFORMATIONAL)}",
                report.combined.status,
                _cut(report.combined.what_differed()),
            )
        )
    if report.control is not None:
        rows.append(
            (
                "(control)",
                "reference -> reference again",
                report.control.status,
                _cut(report.control.what_differed()),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip()
        for row in rows
    ]
    if any(o.tested == "together" and o.status == "identical" for o in report.outcomes.values()):
        lines.append("* identical in the run that varied all of them at once")
    lines.append(verdict(report))
    return lines


def verdict(report: VariationReport) -> str:
    """One sentence: reproducible under every variation, or which ones broke it."""
    runs = f"({report.trainings} trainings)"
    if report.control is not None and report.control.broke:
        return (
            "NOT reproducible even without any variation: the control run differs from the reference "
            f"(pytest --repro shows why) {runs}"
        )
    if report.interaction:
        return f"NOT reproducible: only the combination of variations changes the output {runs}"
    broken = report.broken()
    if broken:
        return f"NOT reproducible under: {', '.join(broken)} {runs}"
    return f"reproducible under every variation checked {runs}"


def detail_lines(report: VariationReport) -> list[str]:
    """The full differences of every variation that changed something."""
    lines: list[str] = []
    shown = [*report.outcomes.values(), *(o for o in (report.combined, report.control) if o is not None)]
    for outcome in shown:
        if not outcome.differences and not outcome.error:
            continue
        lines.append("")
        lines.append(f"{outcome.name}: {outcome.reference} -> {outcome.varied} ({outcome.status})")
        if outcome.error:
            lines.extend(f"  {line}" for line in outcome.error.splitlines())
        for difference in outcome.differences:
            lines.extend(f"  {line}" for line in difference.render().splitlines())
        if outcome.metric_deltas:
            lines.append("  largest |Δ| per metric:")
            for pointer, delta in sorted(outcome.metric_deltas.items(), key=lambda item: -item[1]):
                lines.append(f"    {pointer}: {delta:.6g}")
        if outcome.note:
            lines.append(f"  note: {outcome.note}")
    if report.moved:
        lines.append("")
        lines.append(f"path: copied {', '.join(report.moved)} to {report.moved_to}")
    return lines


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TABLE_DETAIL else text[: TABLE_DETAIL - 1] + "…"


def save_json(report: VariationReport, path: Path) -> None:
    """Write the report as JSON (atomically)."""
    from pytest_repro.lineage.atomic import write_json_atomic

    write_json_atomic(path, report.to_json())
