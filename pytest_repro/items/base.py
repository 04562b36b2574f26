"""What every generated item shares: the session key, the summary row, and failures without tracebacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.errors import ReproError

SUMMARY_PROPERTY = "repro_summary"
SEED_METRICS_PROPERTY = "repro_seed_metrics"  # a seed[N] item's run-a metrics, for the sweep's spread
TWIN_SECONDS_PROPERTY = "repro_twin_seconds"  # the twins' wall time, for the summary's last line
PLUGIN_KEY: pytest.StashKey[Any] = pytest.StashKey()


class ReproMismatch(ReproError):
    """The runs disagree on one check; carries the rendered diagnosis."""


class ReproCheckError(ReproError):
    """A check could not run (training failed, contract broken, manifest missing)."""


class ReproItem(pytest.Item):
    """A generated check: reports its outcome as a summary row and its failure as the diagnosis alone."""

    @classmethod
    def child(cls, parent: pytest.Node, name: str, **kwargs: Any) -> Any:
        """Create the check `name` under `parent`, with a node id that `--lf` and `-k` match.

        pytest 9.2 parses a string node id such as `config.yaml::artifact[model]` into a
        name and a parameter part; a node built from its name alone would keep
        `artifact[model]` whole, compare unequal to the id `--lf` recorded, and never be
        rerun.  Passing the string id makes both forms the same.
        """
        return cls.from_parent(parent, name=name, nodeid=f"{parent.nodeid}::{name}", **kwargs)

    @property
    def plugin(self) -> Any:
        return self.config.stash[PLUGIN_KEY]

    def skip(self, reason: str) -> None:
        """Skip this check, reported at the check's own location (config.yaml), not the plugin's source."""
        # pytest.skip() reports where it was raised; its exception type takes a flag, not
        # part of pytest's documented API, to report the item's location instead.
        try:
            raise pytest.skip.Exception(reason, _use_item_location=True)
        except TypeError:  # a pytest without the flag: a plain skip, located in the plugin
            pytest.skip(reason)

    def summary(self, outcome: str, detail: str = "", a: str = "", b: str = "") -> None:
        """Add this check's row to the session's reproducibility table."""
        row = {"check": self.name, "a": a[:12], "b": b[:12], "outcome": outcome, "detail": detail}
        self.user_properties.append((SUMMARY_PROPERTY, json.dumps(row, sort_keys=True)))

    def report_property(self, name: str, value: Callable[[], str]) -> None:
        """Attach data only the HTML report reads, and only when one is written (junitxml stays lean)."""
        if self.plugin.report is not None:
            self.user_properties.append((name, value()))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ReproMismatch | ReproCheckError | pytest.skip.Exception):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"repro {self.name}"


def outputs_digest(hashes: dict[str, str]) -> str:
    """One digest of a run's outputs (name -> SHA-256), for the summary table's hash columns."""
    from pytest_repro.lineage.atomic import canonical_json
    from pytest_repro.lineage.hashing import sha256_bytes

    return sha256_bytes(canonical_json(hashes))
