"""Every reach into a private API of pytest, hypothesis or numpy sits in `pytest_repro.core.private_apis`, each with a fallback.

The fallbacks are exercised for real: a pytest config without the private attribute,
an object without pytest's private method, a function hypothesis never decorated.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_repro.core import private_apis

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_repro"
HELPER = PACKAGE / "core" / "private_apis.py"
# The run site runs inside the user's training process, before the plugin is importable there.
RUN_SITE = PACKAGE / "running" / "run_site"
# The private names of other projects the plugin is known to need (grep finds any new one).
PRIVATE_REACHES = re.compile(
    r"[.'\"]_tmp_path_factory|_get_unknown_ini_keys|_hypothesis_internal|core\._multiarray_umath|_ispytest"
    r"|\b_pytest\.|from _pytest|import _pytest|sys\._getframe"
)


def test_no_module_but_the_helper_and_the_run_site_reaches_a_private_api():
    reaching = sorted(
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if path != HELPER and RUN_SITE not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PRIVATE_REACHES.search(line)
    )
    assert reaching == []


def test_the_pattern_finds_a_private_reach():
    assert PRIVATE_REACHES.search("folder = self.config._tmp_path_factory.mktemp('x')")
    assert PRIVATE_REACHES.search("from _pytest.tmpdir import TempPathFactory")


def test_the_session_factory_is_pytests_own(pytester: pytest.Pytester):
    config = pytester.parseconfigure()

    assert private_apis.session_tmp_path_factory(config) is config._tmp_path_factory


def test_without_the_private_attribute_a_factory_is_built_from_the_config_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    config = pytester.parseconfigure(f"--basetemp={pytester.path / 'base'}")
    # As a pytest without it would leave it (None, not deleted: pytest's own cleanup restores it).
    monkeypatch.setattr(config, "_tmp_path_factory", None)

    factory = private_apis.session_tmp_path_factory(config)
    folder = factory.mktemp("probe")

    assert isinstance(factory, pytest.TempPathFactory)
    assert private_apis.session_tmp_path_factory(config) is factory
    assert folder.is_dir() and folder.parent == pytester.path / "base"


def test_unknown_ini_keys_are_pytests_and_nothing_without_its_private_method(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nrepro_trian = x\n")
    config = pytester.parseconfig()

    assert private_apis.unknown_ini_keys(config) == ["repro_trian"]
    assert private_apis.unknown_ini_keys(object()) == []


def test_hypothesis_settings_are_updated_in_place_and_default_when_absent():
    hypothesis = pytest.importorskip("hypothesis")

    def bare():
        pass

    private_apis.update_hypothesis_settings(
        bare, lambda current: hypothesis.settings(current, max_examples=7)
    )
    private_apis.update_hypothesis_settings(bare, lambda current: hypothesis.settings(current, deadline=None))

    seen = getattr(bare, "_hypothesis_internal_use_settings")  # noqa: B009 - what hypothesis reads
    assert (seen.max_examples, seen.deadline) == (7, None)


def test_numpys_cpu_features_module_is_found():
    pytest.importorskip("numpy")

    assert hasattr(private_apis.numpy_umath_module(), "__cpu_baseline__")


@pytest.mark.parametrize(
    ("expression", "selects"),
    [
        ("not slow", True),
        ("repro_probe", True),
        ("repro or lineage", False),
        ("repro_probe and not slow", True),
        ("repro", False),
    ],
)
def test_a_marker_expression_is_evaluated_as_pytest_does(expression: str, selects: bool):
    assert private_apis.marker_expression_selects(expression, ("repro_probe",)) is selects


def test_a_marker_with_keywords_never_selects_the_probes_marker_which_has_none():
    # pytest 8.3 added `-m "name(key=value)"`; older releases cannot parse it (None: unknown).
    assert not private_apis.marker_expression_selects("repro_probe(seed=8)", ("repro_probe",))


def test_a_marker_expression_pytest_cannot_parse_is_unknown():
    assert private_apis.marker_expression_selects("repro_probe and (", ("repro_probe",)) is None
