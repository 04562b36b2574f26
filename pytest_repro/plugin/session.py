"""The session's state: settings, the twin-run cache, and the rows of the reproducibility table.

Loaded in every session that has the plugin, so it imports only the settings: the items,
the summary and the runs load when a session has something to check.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.checks.result import SEED_METRICS_PROPERTY, TWIN_SECONDS_PROPERTY
from pytest_repro.core.private_apis import session_tmp_path_factory
from pytest_repro.items.item_base import SUMMARY_PROPERTY
from pytest_repro.settings.probes import read_probe_settings
from pytest_repro.settings.resolved import ReproSettings, read_settings

# The user properties a generated check reports with; a report without any needs no parsing.
CHECK_PROPERTIES = frozenset({SUMMARY_PROPERTY, SEED_METRICS_PROPERTY, TWIN_SECONDS_PROPERTY})


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
        self.report: Any = None  # a report.collect.PytestCollector when an HTML report is asked for
        self.report_message: str | None = None
        if self.settings.enabled and self.settings.report_path is not None:
            from pytest_repro.report.gathering import PytestCollector

            self.report = PytestCollector()
        self._runs: Any = None  # the RunService, built when a training is first asked for
        self._relay: Any = None

    def twins(self, settings: ReproSettings, seed: int | None = None) -> Any:
        """Return the twin runs of `settings` (trained at most once per session and request)."""

        if settings.entry is None:
            raise pytest.UsageError("pytest-repro: set repro_train = 'module:function' in the ini settings")
        request = settings.request(seed)
        configured = seed is None and request == self.settings.request()
        # A recorded run stands in for run-a of the configured training only: it is of its seed and config.
        against = self.settings.recorded_run if configured else None
        return self.runs().twins(request, settings.isolation, against, configured=configured)

    def runs(self) -> Any:
        """The session's one owner of trainings (`pytest_repro.running.service.RunService`)."""
        if self._runs is None:
            from pytest_repro.running.service import RunService

            factory = session_tmp_path_factory(self.config)
            self._runs = RunService(self.shared_dir(), factory.mktemp, sink=self.progress())
        return self._runs

    def start_twins_ahead(self) -> None:
        """Start the configured twins now, so that pytest collects while they train.

        Only in a plain session (an xdist worker may not be the one that trains them) and
        in subprocess isolation; if no selected test needs them, collection stops them.
        """
        settings = self.settings
        if not settings.enabled or settings.entry is None or settings.isolation == "inprocess":
            return
        if (
            is_xdist_worker(self.config)
            or _xdist_controller(self.config)
            or self.config.getoption("collectonly")
        ):
            return
        self.runs().start_twins_ahead(settings.request(), settings.isolation, settings.recorded_run)
        if _seed_probe_selected_ahead(self):
            _plan_seed_probe(self)

    def shared_dir(self) -> Path:
        """A folder every xdist worker of this session sees: the parent of the workers' basetemps."""
        factory = session_tmp_path_factory(self.config)
        base = factory.getbasetemp()
        if is_xdist_worker(self.config):
            base = base.parent
        return base / "repro-shared"

    def progress(self) -> Any:
        """The sink the runs' output lines go to: relayed to the terminal from pytest's thread.

        A method, not a property: older pluggy reads every attribute of a registered
        plugin, and a property would build the relay (and import it) in every session.
        """
        if self._relay is None:
            from pytest_repro.plugin.terminal_relay import TerminalRelay

            enabled = self.config.get_verbosity() >= 0 and not is_xdist_worker(self.config)
            self._relay = TerminalRelay(self.config, enabled=enabled)
        return self._relay

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collection_order = {item.nodeid: index for index, item in enumerate(session.items)}
        if self.settings.enabled and not is_xdist_worker(self.config):
            from pytest_repro.items.item_base import is_check

            if any(is_check(item, "seed-sensitivity") for item in session.items):
                _plan_seed_probe(self)
            elif self._runs is not None:
                self._runs.drop_planned_probe()  # planned at session start, not selected after all
        if self._runs is not None and not any(_may_need_twins(item) for item in session.items):
            self._runs.cancel_twins_ahead()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._drain()

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self._drain()

    def _drain(self) -> None:
        """Write out the runs' output lines queued since pytest's thread last passed by."""
        if self._relay is not None:
            self._relay.drain()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect summary rows from reports, so the table is right under xdist too."""
        self._drain()
        if any(name in CHECK_PROPERTIES for name, _ in report.user_properties):
            self._read_check_properties(report)
        self._read_finished_twins()
        if self.report is not None:
            self.report.observe(report)

    def _read_check_properties(self, report: pytest.TestReport) -> None:
        from pytest_repro.checks.probe_checks import collect_seed_metrics
        from pytest_repro.plugin.summary import parse_summary

        for name, value in report.user_properties:
            if name == TWIN_SECONDS_PROPERTY:
                self.twin_seconds = value
        collect_seed_metrics(self.seed_metrics, report.user_properties)
        row = parse_summary(report.user_properties, SUMMARY_PROPERTY)
        if row is not None:
            self.summary_rows[row["check"]] = row
            self.row_nodeids[row["check"]] = report.nodeid

    def ordered_rows(self) -> list[dict[str, Any]]:
        """The summary rows in collection order, not in the order xdist workers happen to finish them."""
        last = len(self.collection_order)
        return sorted(
            self.summary_rows.values(),
            key=lambda row: self.collection_order.get(self.row_nodeids[row["check"]], last),
        )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Stop any training still running (nothing in this session will read it), then write the report.

        The HTML report is written in the controller under xdist, before the terminal
        summary names it.
        """
        if self._runs is not None:
            self._runs.shutdown()
        self._drain()
        if self.report is None or is_xdist_worker(self.config):
            return
        from pytest_repro.core.paths import shown_path
        from pytest_repro.plugin.summary import header_lines
        from pytest_repro.report import render_html, write_report
        from pytest_repro.settings.table import rerun_options

        path = self.settings.report_path
        assert path is not None
        last = len(self.collection_order)
        data = self.report.data(
            context=header_lines(self.settings, self.config.rootpath, rerun_options(self.config)),
            rows=self.ordered_rows(),
            row_nodeids=self.row_nodeids,
            twin_seconds=self.twin_seconds,
            seed_metrics=self.seed_metrics,
            order=lambda nodeid: self.collection_order.get(nodeid, last),
        )
        shown = shown_path(path, self.config.rootpath)
        try:
            write_report(path, render_html(data))
        except OSError as exc:
            self.report_message = f"report: could not write {shown}: {exc.strerror or exc}"
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        self.report_message = f"report: {shown}"

    def _read_finished_twins(self) -> None:
        """Read the twins started ahead as soon as they have exited, between any two tests.

        So the seed probe queues behind them at once, while the rest of the suite runs,
        instead of when the first twin check comes up.
        """
        if self._runs is None or not self._runs.twins_ahead_exited():
            return
        from pytest_repro.running.twins import TwinFailure

        # A failure is stored: every check that needs the twins reports it.
        with contextlib.suppress(TwinFailure):
            self.twins(self.settings)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print the table once (in the controller under xdist), and only when checks ran."""
        if is_xdist_worker(self.config) or not (
            self.summary_rows or self.seed_metrics or self.report_message
        ):
            return
        from pytest_repro.checks.probe_checks import seed_spread
        from pytest_repro.plugin.summary import summary_lines

        lines = summary_lines(self.ordered_rows(), self.twin_seconds) + seed_spread(self.seed_metrics)
        if self.report_message is not None:
            lines += ["", self.report_message] if lines else [self.report_message]
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


def _may_need_twins(item: pytest.Item) -> bool:
    """Whether a selected item may ask for the configured twins: a generated check or a repro test."""
    return any(item.get_closest_marker(name) is not None for name in ("repro", "repro_probe"))


def _xdist_controller(config: pytest.Config) -> bool:
    """Whether this process hands tests to xdist workers (`-n N`, N > 0), which then train."""
    return bool(getattr(config.option, "numprocesses", None)) and getattr(config.option, "dist", "no") != "no"


def is_xdist_worker(config: pytest.Config) -> bool:
    """Return whether this process is a pytest-xdist worker (it has the controller's workerinput)."""
    return hasattr(config, "workerinput")


def _plan_seed_probe(plugin: Any) -> None:
    """Have the run of a selected seed-sensitivity check started beside the twins, or queued behind them.

    Planned at session start when the check will be selected (`_seed_probe_selected_ahead`),
    else once collection shows it is.  Behind the twins it queues only once they are known
    to agree: twins that differ make the probe inconclusive, so it must not train then.
    In process, nothing is planned.
    """
    from pytest_repro.checks.probe_checks import sensitivity_seed

    settings = plugin.settings
    if settings.isolation == "inprocess":
        return
    seed = sensitivity_seed(settings, plugin.probes)
    if seed is not None:
        plugin.runs().plan_seed_probe(
            seed, settings.request(seed), lambda twins: _twins_agree(twins, settings.tolerance)
        )


def _seed_probe_selected_ahead(plugin: Any) -> bool:
    """Whether collection will select the seed-sensitivity check, as far as the command line tells before it.

    The configured training must have the check, and `-m` must select its markers; a `-k`
    leaves it unknown, and the probe waits for collection.  A guess that collection
    contradicts (a `--deselect`, a plugin's deselection) costs the probe's first seconds,
    stopped when collection ends.
    """
    from pytest_repro.checks.registry import REGISTRY, plans_check
    from pytest_repro.core.private_apis import marker_expression_selects
    from pytest_repro.items.generation import seed_sensitivity_asked

    config = plugin.config
    if config.getoption("keyword", ""):
        return False
    asked = seed_sensitivity_asked(config)
    if not plans_check("seed-sensitivity", plugin.settings, plugin.probes, sensitivity_asked=asked):
        return False
    expression = config.getoption("markexpr", "")
    return not expression or bool(marker_expression_selects(expression, REGISTRY["seed-sensitivity"].markers))


def _twins_agree(twins: Any, tolerance: float) -> bool:
    """Whether the twins agree by their digests, folds and metrics alone (the checks diagnose the rest)."""
    from pytest_repro.diagnose.compare import compare_metrics

    if twins.a.hashes != twins.b.hashes or twins.a.folds != twins.b.folds:
        return False
    return twins.a.metrics is None or compare_metrics(twins.a, twins.b, tolerance) is None
