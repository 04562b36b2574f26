"""Settings of the probes beyond the twin runs: environment variations, seed sweep, seed sensitivity.

Declared in `table` like every setting (command line over ini); kept free of heavy
imports, like `settings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_repro.settings.table import PytestSources, SettingError, value_of


@dataclass(frozen=True)
class ProbeSettings:
    """Which variations to check, which seeds to sweep, and what an unused seed does."""

    vary: tuple[str, ...]
    seeds: tuple[int, ...]
    sensitivity: str
    portability: str = "info"

    @property
    def fail_portability(self) -> bool:
        return self.portability == "fail"


def read_probe_settings(config: pytest.Config) -> ProbeSettings:
    """Resolve the probes' settings through the table; a bad value is a usage error naming where it came from."""
    sources = PytestSources(config)
    try:
        return ProbeSettings(
            vary=value_of(sources, "vary"),
            seeds=value_of(sources, "seeds"),
            sensitivity=value_of(sources, "seed_sensitivity"),
            portability=value_of(sources, "portability"),
        )
    except SettingError as error:
        raise pytest.UsageError(str(error)) from None
