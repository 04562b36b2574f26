"""pytest-repro hooks and fixtures; the logic lives in the modules they call.

Registered through the `pytest11` entry point as `repro` (`-p no:repro` turns it off).
A session that leaves the plugin alone (no `--repro*` flag, no `repro_*` ini key) pays
for registering the options and markers, nothing more: the session's state, settings
and preflight load when the project configures the plugin or a test asks for it (a
`repro` marker, a fixture); the generated items' modules when the session collects its
checks, the runs and the summary only when a check runs, and scikit-learn, numpy and
joblib only when a check compares two models (`tests/pytest_repro/test_plugin_cost.py`
lists what each kind of session imports).  Every module loaded here costs a parse and an
assertion rewrite in each pytest process where bytecode is not cached
(`PYTHONDONTWRITEBYTECODE`, a read-only site-packages).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.settings.table import INI_NAMES, add_options, leaves_the_plugin_alone, rerun_options

if TYPE_CHECKING:
    from pytest_repro.plugin.session import ReproPlugin
    from pytest_repro.settings.resolved import ReproSettings

SKIP_REASON = "reproducibility check: run with pytest --repro"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


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
    if not leaves_the_plugin_alone(config):
        _start(config)


def _start(config: pytest.Config) -> ReproPlugin:
    """Read and check the settings and register the session's state: at configure, or when first asked."""
    from pytest_repro.plugin.session import ReproPlugin, XdistSession
    from pytest_repro.settings.preflight import check_ini_names, check_session
    from pytest_repro.settings.resolved import PLUGIN_KEY

    check_ini_names(config, INI_NAMES)
    plugin = ReproPlugin(config)
    check_session(config, plugin.settings)
    config.stash[PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "repro-session")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistSession(plugin), "repro-xdist")
    return plugin


def _started(config: pytest.Config) -> bool:
    """Whether the session's state exists: the project configures the plugin, or a test asked for it."""
    return config.pluginmanager.has_plugin("repro-session")


def _plugin(config: pytest.Config) -> ReproPlugin:
    if not _started(config):
        return _start(config)
    from pytest_repro.settings.resolved import PLUGIN_KEY

    return config.stash[PLUGIN_KEY]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the twins before collection when this run will hold their checks, so the two overlap."""
    config = session.config
    if not _started(config):
        return
    plugin = _plugin(config)
    if plugin.settings.enabled and plugin.settings.entry is not None and _may_collect_checks(config):
        plugin.start_twins_ahead()


def _may_collect_checks(config: pytest.Config) -> bool:
    """Whether the generated checks can be in this run: a whole-project run, or the config named."""
    if _whole_project_run(config):
        return True
    checks = _checks_path(config).resolve()
    return any((config.invocation_params.dir / a.split("::")[0]).resolve() == checks for a in config.args)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _started(config):
        return None
    plugin = _plugin(config)
    if plugin.settings.entry is None and not plugin.settings.enabled:
        return None
    from pytest_repro.plugin.summary import header_lines

    return header_lines(plugin.settings, config.rootpath, rerun_options(config))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect the config and the manifest when pytest is pointed at them (`pytest --repro config.yaml`)."""
    if not _started(parent.config):
        return None
    plugin = _plugin(parent.config)
    if plugin.settings.entry is None:
        return None
    if file_path == _checks_path(parent.config):
        return _config_file(parent, file_path)
    if file_path == plugin.settings.lineage_path:
        from pytest_repro.items.generation import LineageManifest

        return LineageManifest.from_parent(parent, path=file_path)
    return None


def _checks_path(config: pytest.Config) -> Path:
    """The file the generated checks hang under: the training's config, or the ini file when it has none."""
    settings = _plugin(config).settings
    if settings.config_path.exists() or config.inipath is None:
        return settings.config_path
    return config.inipath


def _config_file(parent: pytest.Collector, path: Path) -> pytest.Collector:
    from pytest_repro.items.generation import ReproConfigFile

    config_file = ReproConfigFile.from_parent(parent, path=path)
    config_file.settings = _plugin(parent.config).settings
    return config_file


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the generated checks, validate repro markers, and let repro marks coexist with @given."""
    if not _started(config) and not any(_asks_for_the_plugin(item) for item in items):
        return
    plugin = _plugin(config)
    if plugin.settings.entry is not None and _whole_project_run(config):
        # A whole-project run: the config and manifest usually lie outside testpaths, so
        # their checks join here, unless pytest already collected them from an argument.
        present = {item.path for item in items}
        checks_path = _checks_path(config)
        if checks_path.exists() and checks_path not in present:
            items.extend(_collect(_config_file(session, checks_path)))
        if plugin.settings.lineage_path not in present:
            from pytest_repro.items.generation import LineageManifest

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


def _asks_for_the_plugin(item: pytest.Item) -> bool:
    """Whether a test carries one of the plugin's markers, which skip it without --repro."""
    return any(item.get_closest_marker(name) is not None for name in ("repro", "repro_probe"))


def _collect(collector: pytest.Collector) -> list[pytest.Item]:
    """Collect through the hooks, so "collected N items" and the selected count include our items."""
    report = collector.ihook.pytest_make_collect_report(collector=collector)
    report.__dict__.pop("call", None)
    collector.ihook.pytest_collectreport(report=report)
    return [node for node in report.result if isinstance(node, pytest.Item)]


def _whole_project_run(config: pytest.Config) -> bool:
    """Whether the generated checks join this run: a run of the project, not of chosen files or ids.

    `pytest` and `pytest .` are whole-project runs; `pytest tests/test_x.py` is not, and
    `pytest config.yaml` collects the config's checks through `pytest_collect_file`.
    """
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return True
    chosen = {(config.invocation_params.dir / a.split("::")[0]).resolve() for a in config.args}
    return config.rootpath.resolve() in chosen


def _allow_function_scoped_fixtures(item: pytest.Item) -> None:
    """Our fixtures are session-cached, so reusing them across hypothesis examples is safe."""
    function = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
    if not getattr(function, "is_hypothesis_test", False):
        return
    from hypothesis import HealthCheck, settings

    from pytest_repro.core.private_apis import update_hypothesis_settings

    def suppress(current: Any) -> Any:
        suppressed = {*current.suppress_health_check, HealthCheck.function_scoped_fixture}
        return settings(current, suppress_health_check=list(suppressed))

    update_hypothesis_settings(function, suppress)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def repro_settings(pytestconfig: pytest.Config) -> ReproSettings:
    """The resolved pytest-repro settings (ini, overridden by the command line)."""
    return _plugin(pytestconfig).settings


@pytest.fixture(scope="session")
def repro_config(repro_settings: ReproSettings) -> Any:
    """The training config, loaded by `repro_config_loader` (validated) or as plain YAML."""
    if repro_settings.config_loader:
        from pytest_repro.core.entry_points import load_entry_point

        return load_entry_point(repro_settings.config_loader)(repro_settings.config_path)
    import yaml

    from pytest_repro.core.config_files import (
        read_config_bytes,  # a regular file only: a FIFO is refused, not read
    )

    return yaml.safe_load(read_config_bytes(repro_settings.config_path).decode("utf-8-sig"))


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
        run_request = settings.request(seed, overrides, config_path)
        folder = tmp_path_factory.mktemp("repro-run") / label
        # Through the session's queue: behind the twins, with every core once they are done.
        in_process = (isolation or settings.isolation) == "inprocess"
        return plugin.runs().run_once(run_request, folder, label, in_process=in_process)

    return train


@pytest.fixture
def repro_lineage(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The on-disk lineage manifest, verified against its files (fails naming any mismatch)."""
    from pytest_repro.errors import ReproError
    from pytest_repro.lineage.checking import check
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
