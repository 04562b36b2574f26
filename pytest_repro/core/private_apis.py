"""The one home of every reach into a private API of pytest, hypothesis or numpy, each guarded.

Each function says why the reach is needed, which public route was tried first, and
what happens when a later release removes the attribute: a fallback, never a
traceback.  The run site (`pytest_repro.running.run_site`) is the one exception: it runs
inside the user's training process, before anything of the plugin is importable there,
and reaches `sys._getframe` (where a recorded call came from) on its own.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Collection
from typing import Any

# The attribute hypothesis keeps a test's settings in (`@settings` sets it; `@given` reads it).
_HYPOTHESIS_SETTINGS = "_hypothesis_internal_use_settings"


def session_tmp_path_factory(config: Any) -> Any:
    """The session's `pytest.TempPathFactory`: the one the `tmp_path_factory` fixture returns.

    Why: the seed probe and the cross-worker cache need folders under the session's
    basetemp outside any fixture (in an item's `runtest` and in session hooks), and
    pytest's public route, the `tmp_path_factory` fixture, needs a fixture request.
    pytest 8.0 to 9.2 keep the session's factory as `config._tmp_path_factory` (set by
    its tmpdir plugin at configure).  Fallback: a factory built from the same config the
    way that plugin builds it (`TempPathFactory.from_config`, whose `_ispytest` flag only
    silences pytest's "private constructor" warning), made once per config.
    """
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        return factory
    import pytest

    key = _fallback_factory_key()
    if key not in config.stash:
        config.stash[key] = pytest.TempPathFactory.from_config(config, _ispytest=True)
    return config.stash[key]


@functools.cache
def _fallback_factory_key() -> Any:
    import pytest  # imported here: a lineage reads numpy's facts below without pytest

    return pytest.StashKey()


def unknown_ini_keys(config: Any) -> list[str]:
    """The keys of the ini file that no plugin registered, sorted; [] when pytest cannot say.

    Why: a misspelt `repro_*` key must be named, with the key it resembles.  pytest knows
    the unknown keys (it warns about them itself) but offers no public accessor;
    `config.inicfg` is deprecated in pytest 9.  The private method exists from pytest 6
    to 9.2; without it, nothing is checked (a changed private API must not break a session).
    """
    unknown = getattr(config, "_get_unknown_ini_keys", None)
    try:
        return sorted(str(key) for key in unknown()) if callable(unknown) else []
    except Exception:
        return []


def ini_keys(config: Any) -> list[str] | None:
    """The keys the ini file sets; None when pytest cannot say.

    Why: a session whose ini sets no `repro*` key and whose command line gives no
    `--repro*` flag leaves the plugin alone, and knowing that without reading every
    setting keeps such a session from loading the plugin's settings.  pytest 9 keeps the
    keys in `_inicfg` (its `inicfg` property is deprecated), pytest 8 in `inicfg`, both
    instance attributes.  Fallback: None, and the caller reads every setting.
    """
    attributes = vars(config)
    for name in ("_inicfg", "inicfg"):
        keys = attributes.get(name)
        if keys is not None:
            try:
                return [str(key) for key in keys]
            except Exception:
                return None
    return None


def marker_expression_selects(expression: str, markers: Collection[str]) -> bool | None:
    """Whether `-m expression` selects an item that carries `markers` and no other; None when pytest cannot say.

    Why: where it will be selected, the seed probe starts with the twins, before
    collection, instead of waiting for it.  pytest applies `-m` to collected items only
    and has no public parser for it.  `_pytest.mark.expression.Expression` exists from
    pytest 6 to 9.2; its matcher is called with a marker's name and, from pytest 8.3,
    with the keyword arguments of `-m "name(key=value)"` (which these markers, having
    none, never match).  Fallback: None, and the probe waits for collection.
    """
    try:
        from _pytest.mark.expression import Expression

        compiled = Expression.compile(expression)
        return bool(compiled.evaluate(lambda name, **kwargs: not kwargs and name in markers))
    except Exception:
        return None


def update_hypothesis_settings(function: Any, update: Callable[[Any], Any]) -> None:
    """Replace the settings of the hypothesis test `function` with `update(its settings)`.

    Why: the plugin's fixtures are session-cached, so hypothesis's health check against
    function-scoped fixtures must be suppressed for a test that uses them.  The public
    route, applying `@settings(...)` to the test, refuses a test already decorated with
    settings, and a user's test often is; hypothesis keeps them in one private attribute.
    Fallback: without it, hypothesis's defaults are the settings updated.
    """
    from hypothesis import settings

    current = getattr(function, _HYPOTHESIS_SETTINGS, None) or settings()
    setattr(function, _HYPOTHESIS_SETTINGS, update(current))


def numpy_umath_module() -> Any:
    """numpy's compiled ufunc module, which holds the CPU features it dispatches on; None when missing.

    Why: a lineage records the SIMD extensions numpy uses on this machine
    (`__cpu_baseline__`, `__cpu_dispatch__`, `__cpu_features__`), and numpy offers them
    only as attributes of this private module (`numpy.show_runtime()` prints them).
    numpy 2 names it `numpy._core`, numpy 1 `numpy.core`.  Fallback: None, and the lineage
    records no SIMD facts.
    """
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None
