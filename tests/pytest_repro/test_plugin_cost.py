"""A session without `--repro` pays for the options and markers, not for the plugin's machinery.

Each test runs pytest in a fresh interpreter and lists the modules loaded at session
finish: the plugin's must stay within a short list, and neither the training's entry
point nor anything heavy may be among them (a plain `pytest -p no:repro` here loads no
YAML, numpy or scikit-learn either).  No time is measured here (the machine is
shared); `benchmarks/performance.py` times it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# What registering the options and markers needs: all a session that leaves the plugin alone loads.
OPTIONS = {
    "pytest_repro",
    "pytest_repro.core",
    "pytest_repro.core.seed_bounds",  # the seed option's bounds
    "pytest_repro.core.timeouts",  # the timeout option's default
    "pytest_repro.core.private_apis",  # which ini keys are set; standard library only
    "pytest_repro.errors",
    "pytest_repro.lineage",  # the default lineage path (the package's lazy table, nothing else)
    "pytest_repro.plugin",
    "pytest_repro.settings",
    "pytest_repro.settings.table",  # the settings table: flags, ini keys, parsers
}
# A project that configures the plugin adds reading and checking the settings and the session's state.
REGISTRATION = OPTIONS | {
    "pytest_repro.checks",
    "pytest_repro.checks.result",  # what a check returns: the outcome and its words
    "pytest_repro.items",
    "pytest_repro.items.item_base",
    "pytest_repro.core.outcomes",  # the items' outcome words: one small enum
    "pytest_repro.settings.preflight",
    "pytest_repro.settings.probes",
    "pytest_repro.plugin.session",
    "pytest_repro.settings.resolved",
}
# A configured training adds the generated items (collected, then skipped) and their light helpers.
GENERATED_ITEMS = {
    "pytest_repro.checks.lineage_file",
    "pytest_repro.checks.probe_checks",
    "pytest_repro.checks.registry",
    "pytest_repro.checks.twin_comparisons",
    "pytest_repro.core.entry_points",  # the training's entry point, named (not imported)
    "pytest_repro.core.run_records",
    "pytest_repro.items.generation",
    "pytest_repro.lineage.manifest",
    "pytest_repro.core.parsing",
    "pytest_repro.core.paths",
    "pytest_repro.core.regular_files",
    "pytest_repro.plugin.summary",  # the header's one "repro: off" line
}
# A configured command adds its description: the words, outputs and metrics file, checked
# (light: no tree copy, git or run site).
COMMAND_DESCRIPTION = {"pytest_repro.running", "pytest_repro.running.command_training"}
# Never in a session that trains nothing: the runs, the diagnosis, YAML, hashing, numpy.
HEAVY = (
    "pytest_repro.running",
    "pytest_repro.diagnose",
    "pytest_repro.variations",
    "pytest_repro.report",
    "pytest_repro.core.config_files",
    "pytest_repro.lineage.hashing",
    "yaml",
    "numpy",
    "sklearn",
)

RECORD_MODULES = """\
import json
import sys


def pytest_sessionfinish(session):
    with open("modules.json", "w") as handle:
        json.dump(sorted(sys.modules), handle)
"""

ENTRY_POINT = """\
raise RuntimeError("the entry point was imported by a session without --repro")


def train(config_path, output_dir, seed=None):
    pass
"""


def _modules_loaded(pytester: pytest.Pytester, *args: str) -> tuple[set[str], set[str]]:
    """The plugin's modules and the others of `HEAVY`, loaded at the end of `pytest ARGS`."""
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    loaded = set(json.loads(Path(pytester.path, "modules.json").read_text()))
    ours = {name for name in loaded if name.split(".")[0] == "pytest_repro"}
    heavy = {name for name in loaded if name.startswith(HEAVY) or name == "heavytrain"}
    return ours, heavy - ours


def _write_project(pytester: pytest.Pytester, ini: str) -> None:
    pytester.makeconftest(RECORD_MODULES)
    pytester.makepyfile(test_user="def test_plain():\n    assert True\n")
    pytester.makefile(".toml", pyproject=f"[tool.pytest.ini_options]\n{ini}")


def test_a_project_that_does_not_configure_the_plugin_loads_only_its_registration(pytester: pytest.Pytester):
    _write_project(pytester, "")

    ours, heavy = _modules_loaded(pytester)

    assert ours <= OPTIONS, sorted(ours - OPTIONS)
    assert not heavy


def test_a_repro_marked_test_in_a_project_that_does_not_configure_the_plugin_is_skipped(
    pytester: pytest.Pytester,
):
    """The settings load when a test asks for them: the marker is checked, and the test skipped."""
    _write_project(pytester, "")
    pytester.makepyfile(test_probe="import pytest\n\n@pytest.mark.repro_probe\ndef test_probe():\n    pass\n")
    alone = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    alone.assert_outcomes(passed=1, skipped=1)  # a probe marker alone also asks for the plugin
    pytester.makepyfile(
        test_marked="import pytest\n\n@pytest.mark.repro(seed=3)\ndef test_twins():\n    pass\n"
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")

    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*reproducibility check: run with pytest --repro*"])
    pytester.makepyfile(
        test_marked="import pytest\n\n@pytest.mark.repro(sede=3)\ndef test_twins():\n    pass\n"
    )
    refused = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR, refused.stdout.str()


def test_a_configured_function_training_is_neither_imported_nor_run_without_the_repro_flag(
    pytester: pytest.Pytester,
):
    _write_project(pytester, 'repro_train = "heavytrain:train"\npythonpath = ["."]\n')
    Path(pytester.path, "config.yaml").write_text("seed: 3\n")
    Path(pytester.path, "heavytrain.py").write_text(ENTRY_POINT)

    ours, heavy = _modules_loaded(pytester)

    assert ours <= REGISTRATION | GENERATED_ITEMS, sorted(ours - REGISTRATION - GENERATED_ITEMS)
    assert not heavy


def test_a_configured_command_training_loads_no_run_machinery_without_the_repro_flag(
    pytester: pytest.Pytester,
):
    _write_project(pytester, 'repro_command = "python train.py"\nrepro_outputs = ["models/*.pkl"]\n')
    Path(pytester.path, "train.py").write_text('raise SystemExit("the command ran without --repro")\n')

    ours, heavy = _modules_loaded(pytester)

    allowed = REGISTRATION | GENERATED_ITEMS | COMMAND_DESCRIPTION
    assert ours <= allowed, sorted(ours - allowed)
    assert not heavy
