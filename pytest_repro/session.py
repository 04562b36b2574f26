"""The session's state: settings, the twin-run cache, and the rows of the reproducibility table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_repro.items.base import SUMMARY_PROPERTY
from pytest_repro.items.probes import collect_seed_metrics, seed_spread
from pytest_repro.probe_settings import read_probe_settings
from pytest_repro.settings import ReproSettings, read_settings
from pytest_repro.summary import parse_summary, summary_lines


class ReproPlugin:
    """Session state: settings, the twin-run cache, and the rows of the summary table."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.settings: ReproSettings = read_settings(config)
        self.probes = read_probe_settings(config)
        self.seed_metrics: dict[int, Any] = {}
        self.summary_rows: dict[str, dict[str, Any]] = {}
        self.row_nodeids: dict[str, str] = {}
        self.collection_order: dict[str, int] = {}
        self.twin_seconds: str | None = None
        self._cache: Any = None
        self._shared: Any = None

    def twins(self, settings: ReproSettings, seed: int | None = None) -> Any:
        """Return the twin runs of `settings` (trained at most once per session and request)."""

        if settings.entry is None:
            raise pytest.UsageError("pytest-repro: set repro_train = 'module:function' in the ini settings")
        request = settings.request(seed)
        return self.cache().get(request, settings.isolation)

    def cache(self) -> Any:
        from pytest_repro.running.twins import TwinCache

        if self._cache is None:
            self._cache = TwinCache(self.shared_dir(), sink=self.progress)
        return self._cache

    def shared_cache(self) -> Any:
        """The session's on-disk memo for results other than the twins (the variation report)."""
        from pytest_repro.running.shared_cache import SharedCache

        if self._shared is None:
            self._shared = SharedCache(self.shared_dir())
        return self._shared

    def shared_dir(self) -> Path:
        """A folder every xdist worker of this session sees: the parent of the workers' basetemps."""
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
        base = factory.getbasetemp()
        if is_xdist_worker(self.config):
            base = base.parent
        return base / "repro-shared"

    def progress(self, label: str, line: str) -> None:
        """Relay a run's output line to the terminal, unless quiet or in an xdist worker."""
        if self.config.get_verbosity() < 0 or is_xdist_worker(self.config):
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"[repro {label}] {line}")
        else:
            reporter.write_line(f"[repro {label}] {line}")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collection_order = {item.nodeid: index for index, item in enumerate(session.items)}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect summary rows from reports, so the table is right under xdist too."""
        for name, value in report.user_properties:
            if name == "repro_twin_seconds":
                self.twin_seconds = value
        collect_seed_metrics(self.seed_metrics, report.user_properties)
        row = parse_summary(report.user_properties, SUMMARY_PROPERTY)
        if row is not None:
            self.summary_rows[row["check"]] = row
            self.row_nodeids[row["check"]] = report.nodeid

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print the table once (in the controller under xdist), and only when checks ran."""
        if is_xdist_worker(self.config):
            return
        # Rows in collection order, not in the order xdist workers happen to finish them.
        last = len(self.collection_order)
        rows = sorted(
            self.summary_rows.values(),
            key=lambda row: self.collection_order.get(self.row_nodeids[row["check"]], last),
        )
        lines = summary_lines(rows, self.twin_seconds) + seed_spread(self.seed_metrics)
        if not lines:
            return
        terminalreporter.write_sep("=", "reproducibility")
        for line in lines:
            terminalreporter.write_line(line)


class XdistSession:
    """Hooks that exist only under pytest-xdist; registered only when xdist is installed."""

    def __init__(self, plugin: ReproPlugin):
        self.plugin = plugin

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Under xdist the controller collects nothing; the workers report the order instead."""
        self.plugin.collection_order = {nodeid: index for index, nodeid in enumerate(ids)}


def is_xdist_worker(config: pytest.Config) -> bool:
    """Return whether this process is a pytest-xdist worker (it has the controller's workerinput)."""
    return hasattr(config, "workerinput")
