"""pytest-repro hooks and fixtures; the logic lives in the modules they call.

Registered through the `pytest11` entry point as `repro` (`-p no:repro` turns it off).
Nothing heavy is imported here: scikit-learn, numpy and joblib load only when a
reproducibility check actually runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.items.probes import collect_seed_metrics, seed_spread
from pytest_repro.items.twin_checks import (
    PLUGIN_KEY,
    SUMMARY_PROPERTY,
    LineageManifest,
    ReproConfigFile,
)
from pytest_repro.probe_settings import add_probe_options, read_probe_settings, rerun_options
from pytest_repro.settings import ReproSettings, add_options, read_settings
from pytest_repro.summary import header_lines, parse_summary, summary_lines

SKIP_REASON = "reproducibility check: run with pytest --repro"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_probe_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "repro(config=None, seed=None, tolerance=None, isolation=None): a test that needs twin "
        "trainings (fixtures repro_twins, repro_run); skipped without --repro. Arguments override "
        "--repro-config/--repro-seed/--repro-tolerance and the ini settings.",
    )
    config.addinivalue_line(
        "markers",
        "repro_probe: a generated check that trains beyond the twins (seed sensitivity, seed "
        "sweep, variations); run by `pytest --repro`, left out by `-m repro`.",
    )
    config.addinivalue_line(
        "markers",
        "lineage: a lineage check; `pytest -m lineage` runs them alone and fails when no manifest exists.",
    )
    plugin = ReproPlugin(config)
    config.stash[PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "repro-session")


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
        from pytest_repro.running.launcher import RunRequest

        if settings.entry is None:
            raise pytest.UsageError("pytest-repro: set repro_train = 'module:function' in the ini settings")
        request = RunRequest(settings.entry, settings.config_path, settings.seed if seed is None else seed)
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
        if _is_xdist_worker(self.config):
            base = base.parent
        return base / "repro-shared"

    def progress(self, label: str, line: str) -> None:
        """Relay a run's output line to the terminal, unless quiet or in an xdist worker."""
        if self.config.get_verbosity() < 0 or _is_xdist_worker(self.config):
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

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Under xdist the controller collects nothing; the workers report the order instead."""
        self.collection_order = {nodeid: index for index, nodeid in enumerate(ids)}

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
        if _is_xdist_worker(self.config):
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


def _plugin(config: pytest.Config) -> ReproPlugin:
    return config.stash[PLUGIN_KEY]


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    plugin = _plugin(config)
    if plugin.settings.entry is None and not plugin.settings.enabled:
        return None
    lines = header_lines(plugin.settings, config.rootpath)
    if plugin.settings.enabled:
        lines[-1] += rerun_options(config)
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the generated checks, validate repro markers, and let repro marks coexist with @given."""
    plugin = _plugin(config)
    if plugin.settings.entry is not None and not _only_explicit_files(config):
        if plugin.settings.config_path.exists():
            config_file = ReproConfigFile.from_parent(session, path=plugin.settings.config_path)
            config_file.settings = plugin.settings
            items.extend(_collect(config_file))
        manifest = LineageManifest.from_parent(session, path=plugin.settings.lineage_path)
        items.extend(_collect(manifest))
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        marker = item.get_closest_marker("repro")
        if marker is None:
            if item.get_closest_marker("repro_probe") is not None and not plugin.settings.enabled:
                item.add_marker(skip)
            continue
        plugin.settings.with_marker(marker, config.rootpath, item.nodeid)
        _allow_function_scoped_fixtures(item)
        if not plugin.settings.enabled:
            item.add_marker(skip)


def _collect(collector: pytest.Collector) -> list[pytest.Item]:
    """Collect through the hooks, so "collected N items" and the selected count include our items."""
    report = collector.ihook.pytest_make_collect_report(collector=collector)
    report.__dict__.pop("call", None)
    collector.ihook.pytest_collectreport(report=report)
    return [node for node in report.result if isinstance(node, pytest.Item)]


def _only_explicit_files(config: pytest.Config) -> bool:
    """Generated checks join a whole-project run, not a run of chosen test files, folders or ids."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return False
    wanted = {config.rootpath.resolve(), _plugin(config).settings.config_path.resolve()}
    chosen = {(config.invocation_params.dir / a.split("::")[0]).resolve() for a in config.args}
    return not (chosen & wanted)


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _allow_function_scoped_fixtures(item: pytest.Item) -> None:
    """Our fixtures are session-cached, so reusing them across hypothesis examples is safe."""
    function = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
    if not getattr(function, "is_hypothesis_test", False):
        return
    from hypothesis import HealthCheck, settings

    current = getattr(function, "_hypothesis_internal_use_settings", None) or settings()
    suppressed = {*current.suppress_health_check, HealthCheck.function_scoped_fixture}
    function._hypothesis_internal_use_settings = settings(current, suppress_health_check=list(suppressed))


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def repro_settings(pytestconfig: pytest.Config) -> ReproSettings:
    """The resolved pytest-repro settings (ini, overridden by the command line)."""
    return _plugin(pytestconfig).settings


@pytest.fixture(scope="session")
def repro_config(repro_settings: ReproSettings) -> Any:
    """The training config, loaded by `repro_config_loader` (validated) or as plain YAML."""
    if repro_settings.config_loader:
        from pytest_repro.running.launcher import load_entry_point

        return load_entry_point(repro_settings.config_loader)(repro_settings.config_path)
    import yaml

    return yaml.safe_load(repro_settings.config_path.read_text(encoding="utf-8"))


def _marked_settings(request: pytest.FixtureRequest) -> ReproSettings:
    plugin = _plugin(request.config)
    marker = request.node.get_closest_marker("repro")
    return plugin.settings.with_marker(marker, request.config.rootpath, request.node.nodeid)


@pytest.fixture
def repro_twins(request: pytest.FixtureRequest) -> Any:
    """Twin runs (`.a`, `.b`, `.seconds`) of the configured training, or of the test's repro marker.

    Trained once per session and request, shared by every test and xdist worker that asks.
    """
    plugin = _plugin(request.config)
    settings = _marked_settings(request)
    from pytest_repro.running.twins import TwinFailure

    try:
        return plugin.twins(settings)
    except TwinFailure as exc:
        pytest.fail(f"the twin runs failed:\n{exc}", pytrace=False)


@pytest.fixture
def repro_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """A factory that trains once into a fresh temporary folder and returns the run's record.

    Call it as `repro_run(seed=None, overrides=None, config=None, isolation=None, label="run")`;
    `overrides` maps dotted config keys to values (the entry point must accept `overrides`).
    """
    from pytest_repro.running.launcher import RunRequest, run_inprocess, run_subprocesses

    settings = _marked_settings(request)
    plugin = _plugin(request.config)

    def train(
        seed: int | None = None,
        overrides: dict[str, Any] | None = None,
        config: str | Path | None = None,
        isolation: str | None = None,
        label: str = "run",
    ) -> Any:
        if settings.entry is None:
            raise pytest.UsageError("pytest-repro: set repro_train = 'module:function' in the ini settings")
        config_path = Path(config) if config is not None else settings.config_path
        run_request = RunRequest(
            settings.entry, config_path, settings.seed if seed is None else seed, overrides
        )
        folder = tmp_path_factory.mktemp("repro-run") / label
        if (isolation or settings.isolation) == "inprocess":
            return run_inprocess(run_request, folder, label)
        return run_subprocesses(run_request, {label: folder}, sink=plugin.progress)[label]

    return train


@pytest.fixture
def repro_lineage(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The on-disk lineage manifest, verified against its files (fails naming any mismatch)."""
    from pytest_repro.errors import ReproError
    from pytest_repro.lineage.check import check
    from pytest_repro.lineage.manifest import read_lineage

    path = _plugin(request.config).settings.lineage_path
    try:
        report = check(path, write_reports=False, project_root=request.config.rootpath)
    except ReproError as exc:
        pytest.fail(str(exc), pytrace=False)
    if not report.passed:
        pytest.fail("\n".join(f.describe() for f in report.failures), pytrace=False)
    return read_lineage(path)


@pytest.fixture
def repro_compare(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Assert that two runs are identical, failing with per-check diagnostics when they differ."""
    settings = _marked_settings(request)

    def compare(a: Any, b: Any, tolerance: float | None = None) -> None:
        from pytest_repro.diagnose.compare import assert_runs_identical

        __tracebackhide__ = True
        assert_runs_identical(a, b, settings.tolerance if tolerance is None else tolerance)

    return compare
