"""Where each setting comes from: marker over command line over ini, as in pytest-timeout.

Kept free of heavy imports: a plain `pytest` reads these settings and nothing more.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.contract import DEFAULT_TIMEOUT, SEED_RANGE_TEXT, is_seed, timeout_seconds
from pytest_repro.lineage import DEFAULT_LINEAGE

ISOLATION_MODES = ("subprocess", "inprocess")
MARKER_ARGUMENTS = ("config", "seed", "tolerance", "isolation")
# Every ini setting of the plugin, registered by `add_options` and `add_probe_options`;
# the preflight refuses any other `repro*` key, naming the nearest of these.
INI_NAMES: list[str] = []
DEFAULT_CONFIG = "config.yaml"
DEFAULT_TRACKING = "run"


@dataclass(frozen=True)
class ReproSettings:
    """The resolved settings of one twin-run request."""

    enabled: bool
    entry: str | None
    config_path: Path
    seed: int | None
    tolerance: float
    isolation: str
    artifacts: tuple[str, ...]
    lineage_path: Path
    config_loader: str | None
    command: Any = None  # a CommandTraining when the training is a command line (repro_command)
    timeout: float | None = DEFAULT_TIMEOUT
    report_path: Path | None = None  # the HTML report written at the end of a --repro session
    against: Path | None = None  # a recorded run's lineage that stands in for run-a (--repro-against)
    root: Path | None = None  # the project every run copies and may not write (pytest's rootdir)
    copy: tuple[str, ...] = ()  # ini repro_copy: git-ignored files each run copies whatever their size
    tracking: str = DEFAULT_TRACKING  # ini repro_tracking: where MLflow and W&B write during a run
    ignore: tuple[Any, ...] = ()  # ini repro_ignore + --repro-ignore: declared volatility (IgnoreRule)

    def volatility(self) -> Any:
        """A fresh `diagnose.declared.Volatility` for one comparison, noting what `repro_ignore` sets aside."""
        from pytest_repro.diagnose.declared import Volatility

        # A pointer rule names the metrics by their file (`reports/metrics.json:/timing/*`), or as
        # `metrics:/...` when they have none (a function's returned mapping, an MLflow run's).
        metrics_file = self.command.metrics if self.command is not None else None
        named = metrics_file and not metrics_file.startswith("mlflow:")
        return Volatility(self.ignore, metrics_file if named else "metrics")

    @property
    def recorded_run(self) -> Any:
        """The recorded run that stands in for run-a (a `running.recorded.RecordedRun`), or None for twins."""
        if self.against is None or self.root is None:
            return None
        from pytest_repro.running.recorded import RecordedRun

        return RecordedRun(self.against, self.root)

    @property
    def project(self) -> Any:
        """What each run copies and may not write (a `running.isolation.ProjectIsolation`), or None.

        Built when a run is requested, so that a session without `--repro` never imports
        the isolation machinery.
        """
        if self.root is None:
            return None
        from pytest_repro.running.isolation import ProjectIsolation

        return ProjectIsolation(self.root, self.copy, self.tracking)

    def request(
        self,
        seed: int | None = None,
        overrides: Mapping[str, Any] | None = None,
        config_path: Path | None = None,
    ) -> Any:
        """The RunRequest that trains these settings' training (the one place requests are built)."""
        from pytest_repro.contract import RunRequest

        config_path = config_path or self.config_path
        seed = self.seed if seed is None else seed
        if seed is None and self.command is not None and self.command.takes_seed:
            from pytest_repro.configs import config_seed

            seed = config_seed(config_path)  # {seed} needs a value; a function reads its own config
        return RunRequest(
            self.entry or "", config_path, seed, overrides, self.command, self.timeout, project=self.project
        )

    def with_marker(self, marker: pytest.Mark | None, rootpath: Path, where: str) -> ReproSettings:
        """Apply a `@pytest.mark.repro(...)` marker's keyword arguments, which win over everything."""
        if marker is None:
            return self
        kwargs = validate_marker_kwargs(marker, where)
        changes: dict[str, Any] = {}
        if "config" in kwargs:
            changes["config_path"] = _resolve(rootpath, str(kwargs["config"]))
        if "seed" in kwargs:
            changes["seed"] = kwargs["seed"]
        if "tolerance" in kwargs:
            changes["tolerance"] = kwargs["tolerance"]
        if "isolation" in kwargs:
            changes["isolation"] = kwargs["isolation"]
        return replace(self, **changes)


def add_options(parser: pytest.Parser) -> None:
    """Register the command-line options and ini settings."""
    group = parser.getgroup("repro", "reproducibility checks (pytest-repro)")
    group.addoption(
        "--repro",
        action="store_true",
        default=False,
        help="run the reproducibility checks: train twice and compare",
    )
    group.addoption(
        "--repro-train",
        default=None,
        metavar="MODULE:FUNCTION",
        help="training entry point (ini repro_train)",
    )
    group.addoption(
        "--repro-command",
        default=None,
        metavar="COMMAND",
        help="training command line, run in a fresh copy of the project (ini repro_command)",
    )
    group.addoption(
        "--repro-outputs",
        default=None,
        metavar="GLOB,GLOB",
        help="files a command training writes, relative to the project (ini repro_outputs)",
    )
    group.addoption(
        "--repro-metrics",
        default=None,
        metavar="PATH",
        help="a command training's metrics file: JSON, YAML or CSV (ini repro_metrics)",
    )
    group.addoption(
        "--repro-ignore",
        action="append",
        default=None,
        metavar="PATTERN",
        help="what may differ by design, added to ini repro_ignore (repeatable): GLOB, GLOB:/JSON-POINTER, "
        "or a glob with {id} segments that pairs outputs",
    )
    group.addoption(
        "--repro-artifacts",
        default=None,
        metavar="NAME,NAME",
        help="artifacts compared one test each (ini repro_artifacts; default: one test for all)",
    )
    group.addoption(
        "--repro-timeout",
        default=None,
        metavar="SECONDS",
        help=f"stop a training run after this long, failing one check with its last output (default {DEFAULT_TIMEOUT:g}; 0: no limit)",
    )
    group.addoption(
        "--repro-lineage", default=None, metavar="PATH", help="on-disk lineage manifest (ini repro_lineage)"
    )
    group.addoption(
        "--repro-report",
        default=None,
        metavar="PATH",
        help="under --repro, also write one self-contained HTML report to PATH (ini repro_report)",
    )
    group.addoption(
        "--repro-against",
        default=None,
        metavar="LINEAGE",
        help="under --repro, take the verified run this lineage records as run-a and train only run-b "
        "(ini repro_against)",
    )
    group.addoption(
        "--repro-config",
        default=None,
        metavar="PATH",
        help="training config file (overrides ini repro_config)",
    )
    group.addoption(
        "--repro-seed",
        default=None,
        type=_seed_option,
        metavar="INT",
        help="seed passed to both runs (overrides ini repro_seed; default: the config's)",
    )
    group.addoption(
        "--repro-isolation",
        default=None,
        choices=ISOLATION_MODES,
        help="subprocess (default): each run in a fresh interpreter; inprocess: for debugging and fast fuzzing",
    )
    group.addoption(
        "--repro-tolerance",
        default=None,
        type=_tolerance_option,
        metavar="FLOAT",
        help="absolute tolerance for metric comparison (default 0)",
    )
    addini = recorded_addini(parser)
    addini("repro_train", "training entry point as module:function", default=None)
    addini("repro_command", "training command line, run in a fresh copy of the project", default=None)
    addini(
        "repro_outputs",
        "globs of the files a command training writes, relative to the project",
        type="args",
        default=[],
    )
    addini(
        "repro_metrics",
        "a command training's metrics file (JSON, YAML or CSV), relative to the project",
        default=None,
    )
    addini("repro_seed", "seed passed to every run (default: the config's)", default=None)
    addini("repro_config", "training config file, relative to the rootdir", default=DEFAULT_CONFIG)
    addini(
        "repro_config_loader",
        "module:function that loads and validates the config (default: YAML)",
        default=None,
    )
    addini(
        "repro_artifacts",
        "artifact names compared one test each (default: one test comparing every artifact a run returns)",
        type="args",
        default=[],
    )
    addini(
        "repro_lineage", "lineage manifest checked by the lineage items", default=DEFAULT_LINEAGE.as_posix()
    )
    addini(
        "repro_pins",
        "the dataset pin registry repro-pin writes and reads, relative to the rootdir "
        "(default: dataset_pins.yaml beside each dataset)",
        default=None,
    )
    addini(
        "repro_against",
        "lineage of a verified run of today's inputs, seed and code that --repro takes as run-a "
        "(default: none, train twins)",
        default=None,
    )
    addini(
        "repro_report",
        "HTML report written by every --repro session, relative to the rootdir (default: none)",
        default=None,
    )
    addini("repro_isolation", "subprocess or inprocess", default="subprocess")
    addini(
        "repro_timeout",
        "seconds one training run may take before it is stopped (0: no limit)",
        default=str(DEFAULT_TIMEOUT),
    )
    addini("repro_tolerance", "absolute tolerance for metrics", default="0")
    addini(
        "repro_copy",
        "globs of git-ignored files each run copies whatever their size (larger ones are shared)",
        type="linelist",
        default=[],
    )
    addini(
        "repro_ignore",
        "what may differ by design, one a line: GLOB (a whole output), GLOB:/JSON-POINTER (a value in a "
        "JSON/YAML output), a glob with {id} segments (pairs outputs whose generated ids differ)",
        type="linelist",
        default=[],
    )
    addini(
        "repro_tracking",
        "run: MLflow and W&B write into each run's own folder; user: as your environment says",
        default=DEFAULT_TRACKING,
    )


def read_settings(config: pytest.Config) -> ReproSettings:
    """Resolve command line over ini; a bad ini value is a usage error naming the setting."""
    root = config.rootpath
    isolation = config.getoption("repro_isolation") or config.getini("repro_isolation")
    if isolation not in ISOLATION_MODES:
        raise pytest.UsageError(
            f"ini repro_isolation: got {isolation!r}; expected one of {', '.join(ISOLATION_MODES)}"
        )
    tolerance = config.getoption("repro_tolerance")
    if tolerance is None:
        try:
            tolerance = _tolerance_option(config.getini("repro_tolerance"))
        except Exception as exc:
            raise pytest.UsageError(f"ini repro_tolerance: {exc}") from None
    entry = config.getoption("repro_train") or config.getini("repro_train") or None
    if entry is not None and ":" not in entry:
        raise pytest.UsageError(f"ini repro_train: got {entry!r}; expected module:function")
    command = _command_training(config, entry)
    if command is not None:
        entry = f"command: {command.command}"
    return ReproSettings(
        enabled=bool(config.getoption("repro")),
        entry=entry,
        config_path=_resolve(root, config.getoption("repro_config") or config.getini("repro_config")),
        seed=_seed(config),
        tolerance=tolerance,
        isolation=isolation,
        artifacts=_artifact_names(config),
        lineage_path=_resolve(root, config.getoption("repro_lineage") or config.getini("repro_lineage")),
        config_loader=config.getini("repro_config_loader") or None,
        command=command,
        timeout=_timeout(config),
        report_path=_report_path(config),
        against=_against(config),
        root=config.rootpath,
        copy=tuple(config.getini("repro_copy")),
        tracking=_tracking(config),
        ignore=_ignore(config),
    )


def _ignore(config: pytest.Config) -> tuple[Any, ...]:
    """Ini `repro_ignore` plus every `--repro-ignore`, each line checked: a bad one is a usage error."""
    ini, option = config.getini("repro_ignore"), config.getoption("repro_ignore") or ()
    if not ini and not option:
        return ()  # the diagnosis package loads only when something is declared
    from pytest_repro.diagnose.declared import parse_rules

    try:
        return parse_rules(ini, "ini repro_ignore") + parse_rules(option, "--repro-ignore")
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def _seed(config: pytest.Config) -> int | None:
    """`--repro-seed` over ini `repro_seed`: the seed every run gets (None: the config's own)."""
    option = config.getoption("repro_seed")
    if option is not None:
        return option
    text = config.getini("repro_seed")
    if text is None or not str(text).strip():
        return None
    try:
        return _seed_option(str(text).strip())
    except argparse.ArgumentTypeError as error:
        raise pytest.UsageError(f"ini repro_seed: {error}") from None


def _tracking(config: pytest.Config) -> str:
    """Ini `repro_tracking`, checked; the isolation module that knows the modes loads only for another value."""
    value = config.getini("repro_tracking")
    if value == DEFAULT_TRACKING:
        return value
    from pytest_repro.running.isolation import tracking_mode

    try:
        return tracking_mode(value)
    except ValueError as error:
        raise pytest.UsageError(f"ini repro_tracking: {error}") from None


def _against(config: pytest.Config) -> Path | None:
    """`--repro-against` over ini `repro_against`: the recorded run-a, checked by the preflight."""
    value = config.getoption("repro_against") or config.getini("repro_against")
    return _resolve(config.rootpath, value) if value else None


def _report_path(config: pytest.Config) -> Path | None:
    """`--repro-report` over ini `repro_report`; checked by the preflight, which knows the inputs."""
    value = config.getoption("repro_report") or config.getini("repro_report")
    return _resolve(config.rootpath, value) if value else None


def _timeout(config: pytest.Config) -> float | None:
    """`--repro-timeout` over ini `repro_timeout`: seconds a run may take; 0 means no limit."""
    option = config.getoption("repro_timeout")
    text, source = (
        (option, "--repro-timeout")
        if option is not None
        else (config.getini("repro_timeout"), "ini repro_timeout")
    )
    try:
        return timeout_seconds(text)
    except ValueError as error:
        raise pytest.UsageError(f"{source}: {error}") from None


def _artifact_names(config: pytest.Config) -> tuple[str, ...]:
    option = config.getoption("repro_artifacts")
    if option is not None:
        return tuple(name.strip() for name in option.split(",") if name.strip())
    return tuple(config.getini("repro_artifacts"))


def _command_training(config: pytest.Config, entry: str | None) -> Any:
    """The command training the settings name (repro_command, repro_outputs, repro_metrics), or None."""
    command = config.getoption("repro_command") or config.getini("repro_command") or None
    if command is None:
        return None
    if entry is not None:
        raise pytest.UsageError(
            "ini repro_train and repro_command are both set; a training is one or the other"
        )
    from pytest_repro.running.command_training import CommandTraining

    outputs = config.getoption("repro_outputs")
    training = CommandTraining(
        command=command,
        outputs=tuple(outputs.split(",")) if outputs else tuple(config.getini("repro_outputs")),
        metrics=config.getoption("repro_metrics") or config.getini("repro_metrics") or None,
        root=config.rootpath,
    )
    problems = training.problems()
    if problems:
        raise pytest.UsageError(problems[0])
    return training


def validate_marker_kwargs(marker: pytest.Mark, where: str) -> dict[str, Any]:
    """Check a repro marker's arguments; anything unknown or ill-typed is a usage error."""
    if marker.args:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.repro takes keyword arguments only ({', '.join(MARKER_ARGUMENTS)})"
        )
    kwargs = dict(marker.kwargs)
    unknown = sorted(set(kwargs) - set(MARKER_ARGUMENTS))
    if unknown:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.repro got unknown argument(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(MARKER_ARGUMENTS)}"
        )
    if "seed" in kwargs and not is_seed(kwargs["seed"]):
        raise pytest.UsageError(
            f"{where}: @pytest.mark.repro seed: got {kwargs['seed']!r}; expected {SEED_RANGE_TEXT}"
        )
    if "tolerance" in kwargs:
        value = kwargs["tolerance"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise pytest.UsageError(
                f"{where}: @pytest.mark.repro tolerance: got {value!r}; expected a number ≥ 0"
            )
    if "isolation" in kwargs and kwargs["isolation"] not in ISOLATION_MODES:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.repro isolation: got {kwargs['isolation']!r}; expected one of {', '.join(ISOLATION_MODES)}"
        )
    if "config" in kwargs and not isinstance(kwargs["config"], str | Path):
        raise pytest.UsageError(
            f"{where}: @pytest.mark.repro config: got {kwargs['config']!r}; expected a path"
        )
    return kwargs


def _seed_option(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected {SEED_RANGE_TEXT}") from None
    if not is_seed(value):
        raise argparse.ArgumentTypeError(f"got {value}; expected {SEED_RANGE_TEXT}")
    return value


def _tolerance_option(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a number ≥ 0") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a number ≥ 0")
    return value


def _resolve(root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def recorded_addini(parser: pytest.Parser):  # type: ignore[no-untyped-def]
    """Return `parser.addini` that also records the setting's name in INI_NAMES."""

    def addini(name: str, *args: Any, **kwargs: Any) -> None:
        if name not in INI_NAMES:
            INI_NAMES.append(name)
        parser.addini(name, *args, **kwargs)

    return addini
