"""The on-disk lineage check: the manifest in the project matches the files it names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.core.paths import shown_path
from pytest_repro.items.item_base import ReproCheckError, ReproItem, ReproMismatch
from pytest_repro.lineage.manifest import missing_lineage_message


class LineageManifest(pytest.File):
    """The on-disk lineage manifest, as the parent of its verification item."""

    def collect(self) -> Iterator[pytest.Item]:
        item = LineageCheck.child(self, "verify")
        if not self.path.exists() and not _lineage_explicitly_selected(self.config):
            message = missing_lineage_message(shown_path(self.path, self.config.rootpath))
            item.add_marker(pytest.mark.skip(reason=f"{message} (pytest -m lineage fails instead)"))
        yield item


class LineageCheck(ReproItem):
    """Verify the on-disk manifest against the files it names, with the training's verifier."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.add_marker("lineage")

    def runtest(self) -> None:
        from pytest_repro.errors import ReproError
        from pytest_repro.lineage.checking import check

        if not self.path.exists():
            raise ReproCheckError(missing_lineage_message(self._shown_path()))
        try:
            report = check(self.path, write_reports=False, project_root=self.config.rootpath)
        except ReproError as exc:
            raise ReproCheckError(str(exc)) from None
        self.user_properties.append(("lineage_run_id", str(report.report.run_id)))
        self.user_properties.append(("lineage_signature", report.signature))
        if not report.passed:
            raise ReproMismatch("\n".join(f.describe() for f in report.failures))

    def _shown_path(self) -> str:
        return shown_path(self.path, self.config.rootpath)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, "lineage verify"


def _lineage_explicitly_selected(config: pytest.Config) -> bool:
    return "lineage" in (config.getoption("markexpr", "") or "")
