"""The collector: the config file node that holds every generated check of the configured training."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_repro.items.probe_items import probe_items
from pytest_repro.items.twin_checks import TwinCheck
from pytest_repro.settings.resolved import ReproSettings


class ReproConfigFile(pytest.File):
    """The training config, as the parent of the generated twin-run checks."""

    settings: ReproSettings

    def collect(self) -> Iterator[pytest.Item]:
        for name in self.settings.artifacts:
            yield TwinCheck.child(self, f"artifact[{name}]", kind="artifact", subject=name)
        if not self.settings.artifacts:
            yield TwinCheck.child(self, "artifacts", kind="artifacts", subject="every artifact")
        yield TwinCheck.child(self, "folds", kind="folds", subject="folds")
        yield TwinCheck.child(self, "metrics", kind="metrics", subject="metrics")
        for label in ("run-a", "run-b"):
            yield TwinCheck.child(self, f"lineage[{label}]", kind="lineage", subject=label)
        yield TwinCheck.child(self, "replay", kind="replay", subject="recorded lineage")
        yield from probe_items(self)
