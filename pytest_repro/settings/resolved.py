"""The resolved settings of a twin-run request: marker over command line over ini, as in pytest-timeout.

Each setting is declared once in `table` (its flag, ini key, marker argument and
parser); this module builds `ReproSettings` from those values, for a pytest session and,
through `cli.project_settings`, for every command line.  Kept free of heavy imports: a
plain `pytest` reads these settings and nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.core.timeouts import DEFAULT_TIMEOUT
from pytest_repro.settings.table import (
    BY_MARKER,
    DEFAULT_TRACKING,
    MARKER_ARGUMENTS,
    PytestSources,
    SettingError,
    Sources,
    value_of,
)

# Where a session keeps its state (`plugin.session.ReproPlugin`): set by the plugin, read by the items.
PLUGIN_KEY: pytest.StashKey[Any] = pytest.StashKey()


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
        from pytest_repro.core.run_records import RunRequest

        config_path = config_path or self.config_path
        seed = self.seed if seed is None else seed
        if seed is None and self.command is not None and self.command.takes_seed:
            from pytest_repro.core.config_files import config_seed

            seed = config_seed(config_path)  # {seed} needs a value; a function reads its own config
        return RunRequest(
            self.entry or "", config_path, seed, overrides, self.command, self.timeout, project=self.project
        )

    def with_marker(self, marker: pytest.Mark | None, rootpath: Path, where: str) -> ReproSettings:
        """Apply a `@pytest.mark.repro(...)` marker's keyword arguments, which win over everything."""
        if marker is None:
            return self
        values = marker_values(marker, where)
        changes: dict[str, Any] = {
            name: values[name] for name in ("seed", "tolerance", "isolation") if name in values
        }
        if values.get("config") is not None:
            changes["config_path"] = _resolve(rootpath, values["config"])
        return replace(self, **changes)


def read_settings(config: pytest.Config) -> ReproSettings:
    """Resolve a pytest session's settings through the table; a bad value is a usage error naming where."""
    try:
        return resolve_settings(PytestSources(config), config.rootpath)
    except SettingError as error:
        raise pytest.UsageError(str(error)) from None


def resolve_settings(sources: Sources, root: Path) -> ReproSettings:
    """The settings the sources give (a pytest session's, or a project's ini for a CLI), relative to `root`.

    A bad value is a `SettingError` naming where it came from; settings that contradict
    each other are a `pytest.UsageError`.
    """

    def value(name: str) -> Any:
        return value_of(sources, name)

    entry = value("train")
    command = _command_training(sources, root, entry)
    if command is not None:
        entry = f"command: {command.command}"
    report, against = value("report"), value("against")
    return ReproSettings(
        enabled=value("enabled"),
        entry=entry,
        config_path=_resolve(root, value("config")),
        seed=value("seed"),
        tolerance=value("tolerance"),
        isolation=value("isolation"),
        artifacts=value("artifacts"),
        lineage_path=_resolve(root, value("lineage")),
        config_loader=value("config_loader"),
        command=command,
        timeout=value("timeout"),
        report_path=_resolve(root, report) if report else None,
        against=_resolve(root, against) if against else None,
        root=root,
        copy=value("copy"),
        tracking=value("tracking"),
        ignore=value("ignore"),
    )


def _command_training(sources: Sources, root: Path, entry: str | None) -> Any:
    """The command training the settings name (repro_command, repro_outputs, repro_metrics), or None."""
    command = value_of(sources, "command")
    if command is None:
        return None
    if entry is not None:
        raise pytest.UsageError(
            "ini repro_train and repro_command are both set; a training is one or the other"
        )
    from pytest_repro.running.command_training import CommandTraining

    training = CommandTraining(
        command=command,
        outputs=value_of(sources, "outputs"),
        metrics=value_of(sources, "metrics"),
        root=root,
    )
    problems = training.problems()
    if problems:
        raise pytest.UsageError(problems[0])
    return training


def marker_values(marker: pytest.Mark, where: str) -> dict[str, Any]:
    """A repro marker's arguments by setting name, each parsed by its setting; anything else is a usage error."""
    if marker.args:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.repro takes keyword arguments only ({', '.join(MARKER_ARGUMENTS)})"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_ARGUMENTS))
    if unknown:
        raise pytest.UsageError(
            f"{where}: @pytest.mark.repro got unknown argument(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(MARKER_ARGUMENTS)}"
        )
    values = {}
    for argument, raw in marker.kwargs.items():
        if raw is None:  # `repro(seed=None)`, as the marker's signature reads: not given
            continue
        setting = BY_MARKER[argument]
        try:
            values[setting.name] = setting.parse(raw, f"{where}: {setting.marker_where()}")
        except SettingError as error:
            raise pytest.UsageError(str(error)) from None
    return values


def _resolve(root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path
