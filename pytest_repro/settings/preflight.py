"""Misconfiguration stops the session before collection, with one line: never a green run that checked nothing.

Checked when pytest starts: every `repro_*` ini key is one the plugin knows (a typo
gets the nearest name), and under `--repro` a training is configured, its entry point
imports, the config it names exists, whatever is at the config's path is a regular
file (a FIFO there would block every reader), and a recorded run given as run-a
(`--repro-against`) verifies and is of today's inputs, seed and code.  Each problem is a `pytest.UsageError`, which
pytest prints as one `ERROR:` line with exit status 4 (usage error).
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from pytest_repro.settings.resolved import ReproSettings
from pytest_repro.settings.table import DEFAULT_CONFIG, PytestSources, where_from

INI_PREFIX = "repro"
NO_SEED_FOR_COMMAND = (
    "repro_command uses {seed}, but no seed is known: set repro_seed in the ini file, give the config "
    "a top-level seed, or pass --repro-seed N"
)


def check_ini_names(config: pytest.Config, known: Iterable[str]) -> None:
    """Refuse an ini key that starts with `repro` and is not one of the plugin's settings."""
    for key in _unknown_ini_keys(config):
        hint = unknown_setting_hint(key, known)
        if hint is not None:
            raise pytest.UsageError(f"{_inifile(config)}: {hint}")


def unknown_setting_hint(key: str, known: Iterable[str]) -> str | None:
    """The one line that refuses `key` when it looks like a pytest-repro setting and is none (None otherwise)."""
    known = sorted(known)
    if not key.startswith(INI_PREFIX) or key in known:
        return None
    import difflib  # only when a key is refused: a plain session pays nothing

    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}?" if near else f"known: {', '.join(known)}"
    return f"unknown pytest-repro setting {key!r}; {hint}"


def check_session(config: pytest.Config, settings: ReproSettings) -> None:
    """Under --repro: a training must be configured, load, and find its config, and a report can be written."""
    check_report_option(config, settings)
    if not settings.enabled:
        if config.getoption("repro_against") is not None:
            raise pytest.UsageError(
                "--repro-against: a recorded run stands in for run-a of what --repro checks; add --repro"
            )
        return
    if settings.entry is None and config.inipath is None and config.getoption("repro_config"):
        raise pytest.UsageError(
            "pytest --repro: no ini file found, so no training is configured; pytest looks for the ini "
            "file before it knows --repro-config and takes a separate PATH for a test path: write "
            "--repro-config=PATH (one word) for a config outside the project"
        )
    if settings.entry is None:
        raise pytest.UsageError(
            'pytest --repro: no training configured; set repro_train = "module:function" (a function '
            'that trains into a folder) or repro_command = "python train.py" with repro_outputs (a '
            f"script) in {_inifile(config)}"
        )
    if settings.command is not None and settings.command.takes_seed and settings.request().seed is None:
        raise pytest.UsageError(f"pytest --repro: {NO_SEED_FOR_COMMAND}")
    if settings.command is None:
        from pytest_repro.core.entry_points import ContractError, load_entry_point

        try:
            load_entry_point(settings.entry)
        except ContractError as exc:
            raise pytest.UsageError(f"pytest --repro: {exc}") from None
    _check_config(settings, named=_names_a_config(config))
    check_recorded_run(config, settings)


def check_recorded_run(config: pytest.Config, settings: ReproSettings) -> None:
    """A recorded run-a must verify and be of today's inputs, seed and code: one line otherwise."""
    if settings.against is None:
        return
    from pytest_repro.running.recorded import RecordedRunRefused, check_recorded_run

    source = where_from(PytestSources(config), "against")
    try:
        check_recorded_run(
            settings.against,
            project_root=config.rootpath,
            config_path=settings.config_path,
            seed=settings.request().seed if settings.command is not None else _todays_seed(settings),
            source=source,
        )
    except RecordedRunRefused as exc:
        raise pytest.UsageError(str(exc)) from None


def _todays_seed(settings: ReproSettings) -> int | None:
    """The seed a function training will use: the one given, else its config's (it reads its own)."""
    if settings.seed is not None:
        return settings.seed
    from pytest_repro.core.config_files import config_seed

    return config_seed(settings.config_path)


def check_report_option(config: pytest.Config, settings: ReproSettings) -> None:
    """The HTML report's path: only with --repro, into an existing folder, never over an input.

    Checked before anything trains, so a bad path costs nothing; an ini `repro_report`
    without --repro is simply not used, like the other --repro settings.
    """
    if settings.report_path is None:
        return
    source = where_from(PytestSources(config), "report")
    if not settings.enabled:
        if source.startswith("--"):
            raise pytest.UsageError("--repro-report: the report shows what --repro checks; add --repro")
        return
    from pytest_repro.report.target import ReportPathError, check_report_path

    inputs = {
        "the training's config": settings.config_path,
        "the ini file": config.inipath,
        "the lineage manifest": settings.lineage_path,
    }
    try:
        check_report_path(settings.report_path, source, inputs)
    except ReportPathError as exc:
        raise pytest.UsageError(str(exc)) from None


def _names_a_config(config: pytest.Config) -> bool:
    """Whether the user named a config; a training needs none (a function then gets the default path).

    An ini value equal to the default counts as not named: pytest cannot tell the two apart
    without private API, and either way the header then says "no config".
    """
    return bool(config.getoption("repro_config")) or config.getini("repro_config") != DEFAULT_CONFIG


def _check_config(settings: ReproSettings, *, named: bool) -> None:
    """Refuse a config that is not a regular file, and a named one that is missing.

    A config named but missing is a mistake; none at all is a choice.  But whatever is
    at the config's path, named or the default, is read by the plugin (its hash keys
    the twins, its seed is looked up) and by the training: a FIFO there would block
    them all forever, so anything but a regular file stops the session before it starts.
    """
    from pytest_repro.core.regular_files import irregular_kind

    kind = irregular_kind(settings.config_path)
    if kind is not None:
        raise pytest.UsageError(
            f"pytest --repro: the training's config {settings.config_path} is not a regular file: {kind} "
            "(set repro_config or --repro-config to the config the training reads)"
        )
    if named and not settings.config_path.is_file():
        raise pytest.UsageError(
            f"pytest --repro: the training's config {settings.config_path} is not a file "
            "(set repro_config or --repro-config to the config the training reads)"
        )


def _unknown_ini_keys(config: pytest.Config) -> list[str]:
    from pytest_repro.core.private_apis import unknown_ini_keys

    return unknown_ini_keys(config)


def _inifile(config: pytest.Config) -> str:
    path = config.inipath
    if path is None:
        return "the ini file"
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)
