"""The collectors: the config file node that holds the generated checks, and the lineage manifest's node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_repro.checks.registry import PlannedCheck, planned_checks
from pytest_repro.items.item_base import ReproItem
from pytest_repro.settings.resolved import PLUGIN_KEY, ReproSettings


class ReproConfigFile(pytest.File):
    """The training config, as the parent of the generated checks."""

    settings: ReproSettings

    def collect(self) -> Iterator[pytest.Item]:
        probes = self.config.stash[PLUGIN_KEY].probes
        asked = seed_sensitivity_asked(self.config)
        for planned in planned_checks(self.settings, probes, sensitivity_asked=asked):
            yield ReproItem.child(self, planned)


def seed_sensitivity_asked(config: pytest.Config) -> bool:
    """Whether the command line asks for the seed probe (`--repro-seed-sensitivity`), which a run against a recording skips otherwise."""
    return config.getoption("repro_seed_sensitivity") is not None


class LineageManifest(pytest.File):
    """The on-disk lineage manifest, as the parent of its verification item."""

    def collect(self) -> Iterator[pytest.Item]:
        item = ReproItem.child(self, PlannedCheck("verify", "lineage-file", self.path))
        if not self.path.exists() and not _lineage_explicitly_selected(self.config):
            from pytest_repro.core.paths import shown_path
            from pytest_repro.lineage.manifest import missing_lineage_message

            message = missing_lineage_message(shown_path(self.path, self.config.rootpath))
            item.add_marker(pytest.mark.skip(reason=f"{message} (pytest -m lineage fails instead)"))
        yield item


def _lineage_explicitly_selected(config: pytest.Config) -> bool:
    return "lineage" in (config.getoption("markexpr", "") or "")
