"""Every pytest-repro setting, declared once: its flag, ini name, marker argument, parser, default and help.

In the manner of pytest-timeout: each setting has one `parse(value, where)`, shared by
every door (the command line, the ini, the `@pytest.mark.repro` marker, and each CLI
that reads project settings), so a bad value gets the same one line everywhere, prefixed
by where it came from (`--repro-tolerance`, `ini repro_tolerance`,
`@pytest.mark.repro tolerance`, `--tolerance`).  `value_of` applies the precedence in one
place: command line over ini over default (the marker, per test, wins over all three:
`settings.ReproSettings.with_marker`).  `add_options` registers the table with pytest.

Kept light: a plain `pytest` imports it.  Parsers that need a heavier module
(`repro_ignore`, `repro_vary`) import it only when a value is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_repro.core.seed_bounds import SEED_MAX, SEED_MIN, SEED_RANGE_TEXT, is_seed
from pytest_repro.core.timeouts import DEFAULT_TIMEOUT
from pytest_repro.errors import ConfigError, Problem
from pytest_repro.lineage import DEFAULT_LINEAGE

ISOLATION_MODES = ("subprocess", "inprocess")
SENSITIVITY_MODES = ("warn", "fail", "off")
# What a portability variation (blas_kernel, simd, cpus) that changes the output does.
PORTABILITY_MODES = ("info", "fail")
# Where MLflow and W&B write during a run: each run's own folder, or as the environment says.
TRACKING_MODES = ("run", "user")
DEFAULT_CONFIG = "config.yaml"
DEFAULT_TRACKING = "run"
TIMEOUT_ALLOWED = "a number of seconds ≥ 0 (0: no limit)"
MAX_SEEDS = 1000
GROUP = "repro"


class SettingError(ConfigError):
    """A setting's value is not allowed: one line naming where it came from, then what is wrong (exit 2)."""

    def __init__(self, where: str, detail: str):
        super().__init__([Problem(where, "", detail)])

    @classmethod
    def from_line(cls, line: str) -> SettingError:
        """Wrap another parser's `WHERE: DETAIL` line (`parse_selection`, `parse_rules`), unchanged."""
        where, _, detail = line.partition(": ")
        return cls(where, detail)


def refuse(value: Any, where: str, allowed: str) -> SettingError:
    """The one form of a bad value: `where: got VALUE; expected ALLOWED`."""
    return SettingError(where, f"got {value!r}; expected {allowed}")


# ------------------------------------------------------------------------- parsers


def _text(value: Any, where: str) -> str | None:
    """Free text (a command line, a path, an entry point's name); empty is unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | Path):
        raise refuse(value, where, "a path")
    return str(value)


def _entry_point(value: Any, where: str) -> str | None:
    text = _text(value, where)
    module, _, function = (text or "").partition(":")
    if text is not None and not (module and function):
        raise refuse(value, where, "module:function")
    return text


def _words(value: Any, where: str) -> tuple[str, ...]:
    """A comma list on a command line, a list (or one item a line) in the ini."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(item).strip() for item in items if str(item).strip())


def parse_seed(value: Any, where: str) -> int | None:
    """A seed every library accepts; empty is unset (the config's own seed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    seed = value
    if isinstance(value, str):
        try:
            seed = int(value.strip(), 10)
        except ValueError:
            raise refuse(value, where, SEED_RANGE_TEXT) from None
    if not is_seed(seed):
        raise refuse(value, where, SEED_RANGE_TEXT)
    return seed


def parse_tolerance(value: Any, where: str) -> float:
    """An absolute tolerance for metrics: a finite number ≥ 0 (infinity would call any drift equal)."""
    try:
        number = (
            float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else math.nan
        )
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise refuse(value, where, "a number ≥ 0")
    return number


def parse_timeout(value: Any, where: str) -> float | None:
    """Seconds a training run may take; 0 is no limit (None)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds < 0:
        raise refuse(value, where, TIMEOUT_ALLOWED)
    return seconds or None


def one_of(modes: tuple[str, ...]) -> Callable[[Any, str], str]:
    """The parser of a setting that takes one of `modes`."""

    def parse(value: Any, where: str) -> str:
        if value not in modes:
            raise refuse(value, where, f"one of {', '.join(modes)}")
        return str(value)

    return parse


def parse_seeds(value: Any, where: str) -> tuple[int, ...]:
    """Parse `0-9`, `1,5,7` or a mix (`0-4,10`) into distinct seeds in the order given; empty is none."""
    text = str(value or "")
    if not text.strip():
        return ()
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        try:
            first = int(low, 10)
            last = int(high, 10) if dash else first
        except ValueError:
            raise SettingError(
                where, f"got {part!r} in {text!r}; expected a seed (7), a range (0-9) or a comma list"
            ) from None
        if not (SEED_MIN <= first <= last <= SEED_MAX):
            raise SettingError(where, f"got {part!r}; seeds lie in [0, 2**32 - 1] and a range runs low-high")
        if last - first + 1 + len(seeds) > MAX_SEEDS:
            raise SettingError(where, f"{text!r} names more than {MAX_SEEDS} seeds")
        seeds.extend(seed for seed in range(first, last + 1) if seed not in seeds)
    return tuple(seeds)


def parse_variations(value: Any, where: str) -> tuple[str, ...]:
    """`all` or a comma list of variation names; empty is none (the catalogue loads only for a value)."""
    text = str(value or "")
    if not text.strip():
        return ()
    from pytest_repro.variations import VariationError, parse_selection

    try:
        return parse_selection(text, where)
    except VariationError as error:
        raise SettingError.from_line(str(error)) from None


def parse_ignore(value: Any, where: str) -> tuple[Any, ...]:
    """Declared volatility, one rule a line (`diagnose.declared.IgnoreRule`); the diagnosis loads only for a rule."""
    lines = _words([value] if isinstance(value, str) else value, where)
    if not lines:
        return ()
    from pytest_repro.diagnose.declared import parse_rules

    try:
        return parse_rules(lines, where)
    except ValueError as error:
        raise SettingError.from_line(str(error)) from None


def _enabled(value: Any, where: str) -> bool:
    return bool(value)


# ------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Setting:
    """One setting: where it may be given, how a value is parsed, and its default."""

    name: str
    parse: Callable[[Any, str], Any]
    help: str
    flag: str | None = None  # the pytest command-line option
    ini: str | None = None  # the ini key
    marker: str | None = None  # the `@pytest.mark.repro` keyword argument
    default: Any = None  # the raw value when no door gives one (parsed like any other)
    ini_type: str | None = None  # pytest's addini type: "args" (a list) or "linelist" (one a line)
    metavar: str | None = None
    flag_help: str | None = None  # the command line's help, when it differs from the ini's
    append: bool = False  # the flag repeats, and its values are added to the ini's (repro_ignore)

    @property
    def dest(self) -> str:
        """The name pytest stores the command-line option under (`repro_tolerance`)."""
        return (self.flag or "").lstrip("-").replace("-", "_")

    def ini_where(self) -> str:
        return f"ini {self.ini}"

    def marker_where(self) -> str:
        return f"@pytest.mark.repro {self.marker}"


def _modes(modes: tuple[str, ...]) -> str:
    return "{" + ",".join(modes) + "}"


SETTINGS: tuple[Setting, ...] = (
    Setting("enabled", _enabled, "run the reproducibility checks: train twice and compare", flag="--repro"),
    Setting(
        "train",
        _entry_point,
        "training entry point as module:function",
        flag="--repro-train",
        ini="repro_train",
        metavar="MODULE:FUNCTION",
    ),
    Setting(
        "command",
        _text,
        "training command line, run in a fresh copy of the project",
        flag="--repro-command",
        ini="repro_command",
        metavar="COMMAND",
    ),
    Setting(
        "outputs",
        _words,
        "globs of the files a command training writes, relative to the project",
        flag="--repro-outputs",
        ini="repro_outputs",
        ini_type="args",
        default=(),
        metavar="GLOB,GLOB",
    ),
    Setting(
        "metrics",
        _text,
        "a command training's metrics file (JSON, YAML or CSV), relative to the project",
        flag="--repro-metrics",
        ini="repro_metrics",
        metavar="PATH",
    ),
    Setting(
        "ignore",
        parse_ignore,
        "what may differ by design, one a line: GLOB (a whole output), GLOB:/JSON-POINTER (a value in a "
        "JSON/YAML output), a glob with {id} segments (pairs outputs whose generated ids differ)",
        flag="--repro-ignore",
        ini="repro_ignore",
        ini_type="linelist",
        default=(),
        metavar="PATTERN",
        flag_help="what may differ by design, added to ini repro_ignore (repeatable): GLOB, GLOB:/JSON-POINTER, "
        "or a glob with {id} segments that pairs outputs",
        append=True,
    ),
    Setting(
        "artifacts",
        _words,
        "artifact names compared one test each (default: one test comparing every artifact a run returns)",
        flag="--repro-artifacts",
        ini="repro_artifacts",
        ini_type="args",
        default=(),
        metavar="NAME,NAME",
    ),
    Setting(
        "timeout",
        parse_timeout,
        f"seconds one training run may take before it is stopped, failing one check with its last "
        f"output (default {DEFAULT_TIMEOUT:g}; 0: no limit)",
        flag="--repro-timeout",
        ini="repro_timeout",
        default=str(DEFAULT_TIMEOUT),
        metavar="SECONDS",
    ),
    Setting(
        "lineage",
        _text,
        "lineage manifest checked by the lineage items",
        flag="--repro-lineage",
        ini="repro_lineage",
        default=DEFAULT_LINEAGE.as_posix(),
        metavar="PATH",
    ),
    Setting(
        "report",
        _text,
        "HTML report written by every --repro session, relative to the rootdir (default: none)",
        flag="--repro-report",
        ini="repro_report",
        metavar="PATH",
    ),
    Setting(
        "against",
        _text,
        "lineage of a verified run of today's inputs, seed and code that --repro takes as run-a, "
        "training only run-b (default: none, train twins)",
        flag="--repro-against",
        ini="repro_against",
        metavar="LINEAGE",
    ),
    Setting(
        "config",
        _text,
        "training config file, relative to the rootdir",
        flag="--repro-config",
        ini="repro_config",
        marker="config",
        default=DEFAULT_CONFIG,
        metavar="PATH",
    ),
    Setting(
        "seed",
        parse_seed,
        "seed passed to every run (default: the config's)",
        flag="--repro-seed",
        ini="repro_seed",
        marker="seed",
        metavar="INT",
    ),
    Setting(
        "tolerance",
        parse_tolerance,
        "absolute tolerance for metric comparison (default 0)",
        flag="--repro-tolerance",
        ini="repro_tolerance",
        marker="tolerance",
        default="0",
        metavar="FLOAT",
    ),
    Setting(
        "isolation",
        one_of(ISOLATION_MODES),
        "subprocess (default): each run in a fresh interpreter; inprocess: for debugging and fast fuzzing",
        flag="--repro-isolation",
        ini="repro_isolation",
        marker="isolation",
        default="subprocess",
        metavar=_modes(ISOLATION_MODES),
    ),
    Setting(
        "config_loader",
        _entry_point,
        "module:function that loads and validates the config (default: YAML)",
        ini="repro_config_loader",
    ),
    Setting(
        "pins",
        _text,
        "the dataset pin registry repro-pin writes and reads, relative to the rootdir "
        "(default: dataset_pins.yaml beside each dataset)",
        ini="repro_pins",
    ),
    Setting(
        "copy",
        _words,
        "globs of git-ignored files each run copies whatever their size (larger ones are shared)",
        ini="repro_copy",
        ini_type="linelist",
        default=(),
    ),
    Setting(
        "tracking",
        one_of(TRACKING_MODES),
        "run: MLflow and W&B write into each run's own folder; user: as your environment says",
        ini="repro_tracking",
        default=DEFAULT_TRACKING,
    ),
    Setting(
        "vary",
        parse_variations,
        # The names are not listed here, where they could drift: the catalogue loads only for a value.
        "variations checked under --repro, one test each: all or a comma list of names "
        "(repro-vary --help lists them)",
        flag="--repro-vary",
        ini="repro_vary",
        default="",
        metavar="all|NAME,NAME",
    ),
    Setting(
        "portability",
        one_of(PORTABILITY_MODES),
        "what a portability variation (blas_kernel, simd, cpus) that changes the output does: "
        "info (default, reported) or fail",
        flag="--repro-portability",
        ini="repro_portability",
        default="info",
        metavar=_modes(PORTABILITY_MODES),
    ),
    Setting(
        "seeds",
        parse_seeds,
        "seed sweep under --repro: check that each seed reproduces (0-9 or 1,5,7) and summarise the "
        "metrics' spread",
        flag="--repro-seeds",
        ini="repro_seeds",
        default="",
        metavar="RANGE|LIST",
    ),
    Setting(
        "seed_sensitivity",
        one_of(SENSITIVITY_MODES),
        "train once more with seed+1: warn (default) or fail when no output changes; off skips it",
        flag="--repro-seed-sensitivity",
        ini="repro_seed_sensitivity",
        default="warn",
        metavar=_modes(SENSITIVITY_MODES),
    ),
)
BY_NAME: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}
BY_MARKER: Mapping[str, Setting] = {s.marker: s for s in SETTINGS if s.marker is not None}
# Every ini setting of the plugin; the preflight refuses any other `repro*` key, naming the nearest.
INI_NAMES: tuple[str, ...] = tuple(s.ini for s in SETTINGS if s.ini is not None)
MARKER_ARGUMENTS: tuple[str, ...] = tuple(BY_MARKER)


# ------------------------------------------------------------------------- precedence


class Sources(Protocol):
    """Where the raw values come from: a pytest session's config, or a project's ini file for a CLI."""

    def given(self, setting: Setting) -> tuple[Any, str] | None:
        """The command line's raw value and how to name where it came from, or None when not given."""

    def ini_value(self, setting: Setting) -> tuple[Any, str] | None:
        """The ini's raw value (the declared default when unset) and where, or None without an ini key."""


def value_of(sources: Sources, name: str) -> Any:
    """A setting's value: command line over ini over default, each parsed by the setting's own parser."""
    setting = BY_NAME[name]
    given = sources.given(setting)
    ini = sources.ini_value(setting) if setting.ini is not None else None
    if setting.append:  # the command line adds to the ini
        parsed = [setting.parse(*source) for source in (ini, given) if source is not None]
        return sum(parsed, ())
    if given is not None:
        return setting.parse(*given)
    if ini is not None:
        return setting.parse(*ini)
    return setting.parse(setting.default, setting.flag or name)


class PytestSources:
    """The raw values of a pytest session: its command-line options and its ini file."""

    def __init__(self, config: Any):
        self.config = config

    def given(self, setting: Setting) -> tuple[Any, str] | None:
        if setting.flag is None:
            return None
        value = self.config.getoption(setting.dest)
        return None if value is None or value == "" else (value, setting.flag)

    def ini_value(self, setting: Setting) -> tuple[Any, str] | None:
        return self.config.getini(setting.ini), setting.ini_where()


def where_from(sources: Sources, name: str) -> str:
    """Where a setting's value comes from: the flag that gave it, else its ini key."""
    setting = BY_NAME[name]
    given = sources.given(setting)
    return given[1] if given is not None else setting.ini_where()


def add_options(parser: Any) -> None:
    """Register the table with pytest: each flag as a string option (parsed later), each ini key with its default."""
    group = parser.getgroup(GROUP, "reproducibility checks (pytest-repro)")
    for setting in SETTINGS:
        if setting.flag is None:
            continue
        help = setting.flag_help or setting.help
        if setting.ini is not None and setting.flag_help is None:
            help = f"{help} (ini {setting.ini})"
        if setting.name == "enabled":
            group.addoption(setting.flag, action="store_true", default=False, help=help)
        else:
            action = "append" if setting.append else "store"
            group.addoption(setting.flag, action=action, default=None, metavar=setting.metavar, help=help)
    for setting in SETTINGS:
        if setting.ini is not None:
            default = list(setting.default) if isinstance(setting.default, tuple) else setting.default
            parser.addini(setting.ini, setting.help, type=setting.ini_type, default=default)


def leaves_the_plugin_alone(config: Any) -> bool:
    """Whether a pytest session gives no `--repro*` flag and its ini file no `repro*` key.

    Such a session has nothing to check, configure or refuse: the plugin reads no
    settings until a test asks for them (a `repro` marker, a fixture).
    """
    from pytest_repro.core.private_apis import ini_keys

    if any(config.getoption(s.dest) not in (None, "", False) for s in SETTINGS if s.flag is not None):
        return False
    keys = ini_keys(config)
    return keys is not None and not any(key.startswith("repro") for key in keys)


def rerun_options(config: Any) -> list[str]:
    """The probe options and recorded run-a given on this command line, as words for the "rerun with" command.

    Ini settings are left out: a rerun reads the same ini file.
    """
    words: list[str] = []
    for name in ("against", "vary", "seeds", "seed_sensitivity", "portability"):
        setting = BY_NAME[name]
        value = config.getoption(setting.dest)
        if value is not None:
            words += [setting.flag, str(value)]
    return words
