"""Every setting's bad values, through every door, give the same one line (only its prefix names the door).

The doors: pytest's command line (`--repro-tolerance`), the ini (`ini repro_tolerance`),
the `@pytest.mark.repro` marker (`@pytest.mark.repro tolerance`), and each command line
that reads the setting: its own flag (`repro-vary --tolerance`) and the project's ini
(`pyproject.toml: ini repro_tolerance`).  The cases are parametrized over the table
(`options.SETTINGS`), so a new setting fails `test_every_setting_is_classified` until
its bad values are listed here, and is then fed through every door it has.

pytest runs in-process and the command lines are called in-process for speed; one
bad value per installed command also goes through a real subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_repro.cli import repro_check as check
from pytest_repro.cli import repro_export as export
from pytest_repro.cli import repro_hook as hook
from pytest_repro.cli import repro_run as run
from pytest_repro.cli import repro_vary as vary
from pytest_repro.errors import EXIT_USAGE
from pytest_repro.settings.table import BY_NAME, SETTINGS, SettingError
from pytest_repro.variations import VARIATIONS

SEED_ALLOWED = "expected an integer in [0, 2**32 - 1]"
TIMEOUT_ALLOWED = "expected a number of seconds ≥ 0 (0: no limit)"
# Each setting whose parser refuses some text: bad value -> the one line, with {where} for the door.
BAD_VALUES: dict[str, dict[str, str]] = {
    "train": {
        "trainfn": "{where}: got 'trainfn'; expected module:function",
        ":train": "{where}: got ':train'; expected module:function",
    },
    "config_loader": {"loader": "{where}: got 'loader'; expected module:function"},
    "seed": {
        "-1": f"{{where}}: got '-1'; {SEED_ALLOWED}",
        "4294967296": f"{{where}}: got '4294967296'; {SEED_ALLOWED}",
        "1.5": f"{{where}}: got '1.5'; {SEED_ALLOWED}",
    },
    "tolerance": {
        "inf": "{where}: got 'inf'; expected a number ≥ 0",
        "nan": "{where}: got 'nan'; expected a number ≥ 0",
        "-1": "{where}: got '-1'; expected a number ≥ 0",
        "tight": "{where}: got 'tight'; expected a number ≥ 0",
    },
    "timeout": {
        "soon": f"{{where}}: got 'soon'; {TIMEOUT_ALLOWED}",
        "-1": f"{{where}}: got '-1'; {TIMEOUT_ALLOWED}",
        "inf": f"{{where}}: got 'inf'; {TIMEOUT_ALLOWED}",
    },
    "isolation": {"threads": "{where}: got 'threads'; expected one of subprocess, inprocess"},
    "tracking": {"cloud": "{where}: got 'cloud'; expected one of run, user"},
    "portability": {"warn": "{where}: got 'warn'; expected one of info, fail"},
    "seed_sensitivity": {"loud": "{where}: got 'loud'; expected one of warn, fail, off"},
    "seeds": {
        "9-0": "{where}: got '9-0'; seeds lie in [0, 2**32 - 1] and a range runs low-high",
        "x": "{where}: got 'x' in 'x'; expected a seed (7), a range (0-9) or a comma list",
    },
    "vary": {
        "timezone": "{where}: unknown variation 'timezone' (did you mean 'time'?); expected all or some of "
        + ", ".join(VARIATIONS)
    },
    "ignore": {
        "models/centroids.json:": "{where} 'models/centroids.json:': an empty JSON pointer after ':'; "
        "expected GLOB:/key/key (RFC 6901), e.g. metadata.json:/created_at"
    },
}
# Settings that take any text: a path, a command line, a list of globs or names, a switch.
ANY_TEXT = {
    "enabled",
    "command",
    "outputs",
    "metrics",
    "artifacts",
    "lineage",
    "report",
    "against",
    "config",
    "pins",
    "copy",
}
# The command lines that read project settings, and which of them each reads from the ini.
PROBES = {"vary", "seeds", "seed_sensitivity", "portability"}  # pytest --repro's own probes
TRAINING_READERS: dict[str, Callable[[], int]] = {
    "repro-run": lambda: run.main([]),
    "repro-vary": lambda: vary.main([]),
    "repro-hook config": lambda: hook.main(["config", "config.yaml"]),
    "repro-check": lambda: check.main(["--no-report"]),
    "repro-export": lambda: export.main(["sha256sums"]),
}
CLI_INI_READERS = {name: set(BY_NAME) - PROBES for name in TRAINING_READERS} | {
    "repro-vary": set(BY_NAME) - PROBES | {"portability"}
}
# Each command line's own flags for a setting.
CLI_FLAGS: dict[tuple[str, str], str] = {
    ("repro-vary", "train"): "--entry",
    ("repro-vary", "seed"): "--seed",
    ("repro-vary", "tolerance"): "--tolerance",
    ("repro-vary", "timeout"): "--timeout",
    ("repro-vary", "portability"): "--portability",
    ("repro-vary", "vary"): "--vary",
    ("repro-run", "seed"): "--seed",
    ("repro-hook config", "config_loader"): "--loader",
}
CLI_MAINS: dict[str, Callable[[list[str]], int]] = {
    "repro-vary": vary.main,
    "repro-run": run.main,
    "repro-hook config": lambda argv: hook.main(["config", *argv, "config.yaml"]),
}


def _cases(door: Callable[[str], bool]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in BAD_VALUES.items() if door(name) for value in values]


def _line(name: str, value: str, where: str) -> str:
    return BAD_VALUES[name][value].format(where=where)


def _ini_text(name: str, value: str) -> str:
    setting = BY_NAME[name]
    raw = [value] if setting.ini_type else value  # a list setting takes a TOML list
    return f"[tool.pytest.ini_options]\n{setting.ini} = {json.dumps(raw)}\n"


def test_every_setting_is_classified():
    assert set(BAD_VALUES) | ANY_TEXT == set(BY_NAME)
    assert not set(BAD_VALUES) & ANY_TEXT


@pytest.mark.parametrize(("name", "value"), _cases(lambda name: True))
def test_the_setting_parser_itself_gives_the_line(name: str, value: str):
    with pytest.raises(SettingError) as error:
        BY_NAME[name].parse(value, "somewhere")
    assert str(error.value) == _line(name, value, "somewhere")


# ----------------------------------------------------------------------------- pytest's doors


@pytest.mark.parametrize(("name", "value"), _cases(lambda name: BY_NAME[name].flag is not None))
def test_pytest_command_line(pytester: pytest.Pytester, name: str, value: str):
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    flag = BY_NAME[name].flag

    result = pytester.runpytest_inprocess(f"{flag}={value}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: {_line(name, value, flag)}" in result.stderr.lines


@pytest.mark.parametrize(("name", "value"), _cases(lambda name: BY_NAME[name].ini is not None))
def test_pytest_ini(pytester: pytest.Pytester, name: str, value: str):
    pytester.makepyprojecttoml(_ini_text(name, value))

    result = pytester.runpytest_inprocess()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: {_line(name, value, f'ini {BY_NAME[name].ini}')}" in result.stderr.lines


@pytest.mark.parametrize(("name", "value"), _cases(lambda name: BY_NAME[name].marker is not None))
def test_repro_marker(pytester: pytest.Pytester, name: str, value: str):
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    marker = BY_NAME[name].marker
    pytester.makepyfile(
        test_marked=f"import pytest\n\n@pytest.mark.repro({marker}={value!r})\ndef test_marked():\n    pass\n"
    )

    result = pytester.runpytest_inprocess()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    where = f"test_marked.py::test_marked: @pytest.mark.repro {marker}"
    assert f"ERROR: {_line(name, value, where)}" in result.stderr.lines


# ----------------------------------------------------------------------------- the command lines' doors


@pytest.mark.parametrize(
    ("cli", "name", "value"),
    [
        (cli, name, value)
        for cli in sorted(TRAINING_READERS)
        for name, value in _cases(lambda name: BY_NAME[name].ini is not None)
        if name in CLI_INI_READERS[cli]
    ],
)
def test_command_line_reading_the_ini(tmp_path, monkeypatch, capsys, cli: str, name: str, value: str):
    (tmp_path / "pyproject.toml").write_text(_ini_text(name, value))
    monkeypatch.chdir(tmp_path)

    assert TRAINING_READERS[cli]() == EXIT_USAGE
    where = f"pyproject.toml: ini {BY_NAME[name].ini}"
    assert capsys.readouterr().err.splitlines() == [f"error: {_line(name, value, where)}"]


@pytest.mark.parametrize(
    ("cli", "name", "value"),
    [(cli, name, value) for (cli, name) in CLI_FLAGS for value in BAD_VALUES[name]],
)
def test_command_line_flag(tmp_path, monkeypatch, capsys, cli: str, name: str, value: str):
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    monkeypatch.chdir(tmp_path)
    flag = CLI_FLAGS[cli, name]

    assert CLI_MAINS[cli]([f"{flag}={value}"]) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [f"error: {_line(name, value, flag)}"]


@pytest.mark.parametrize(
    ("argv", "ini", "line"),
    [
        (["repro-vary", "--tolerance=inf"], "", "error: --tolerance: got 'inf'; expected a number ≥ 0"),
        (["repro-run", "--seed=-1"], "", f"error: --seed: got '-1'; {SEED_ALLOWED}"),
        (
            ["repro-hook", "config", "c.yaml"],
            "repro_tolerance = 'nan'",
            "error: pyproject.toml: ini repro_tolerance: ",
        ),
        (["repro-check"], "repro_seed = '1.5'", "error: pyproject.toml: ini repro_seed: "),
        (
            ["repro-export", "sha256sums"],
            "repro_isolation = 'threads'",
            "error: pyproject.toml: ini repro_isolation: ",
        ),
    ],
    ids=["repro-vary", "repro-run", "repro-hook", "repro-check", "repro-export"],
)
def test_installed_commands_say_the_same_in_a_subprocess(
    tmp_path: Path, argv: list[str], ini: str, line: str
):
    (tmp_path / "pyproject.toml").write_text(f"[tool.pytest.ini_options]\n{ini}\n")
    script = Path(sys.executable).parent / argv[0]

    done = subprocess.run([str(script), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert done.returncode == EXIT_USAGE
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(line)


def test_pytest_help_lists_every_flag_and_ini_key_of_the_table(pytester: pytest.Pytester):
    result = pytester.runpytest_inprocess("--help")

    help_text = result.stdout.str()
    for setting in SETTINGS:
        assert setting.flag is None or setting.flag in help_text
        assert setting.ini is None or f"{setting.ini} (" in help_text
