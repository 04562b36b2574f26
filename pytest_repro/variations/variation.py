"""The one interface every variation implements: `Variation`, and `OneVariable` for the simplest kind.

A variation says what it changes between a reference run and a varied run (two
`Side`s), whether it can vary anything on this machine, and whether a change it
causes fails the check or is only reported.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from pytest_repro.variations.specs import Side
from pytest_repro.variations.workspace import Workspace


class Variation(ABC):
    """One thing that differs between the reference run and the varied run of the same training."""

    name: ClassVar[str]
    # One line, shown by `repro-vary --help`.
    description: ClassVar[str]
    # A change is reported, never a failure (a model may legitimately depend on it).
    informational: ClassVar[bool] = False
    # It stands in for another machine: a change is reported as a portability finding,
    # and fails only when portability is asked to (`--repro-portability=fail`).
    portability: ClassVar[bool] = False
    # Model parameters the variation sets on purpose: a model differing only in them is reproducible.
    expected_parameters: ClassVar[tuple[str, ...]] = ()
    # What an informational variation that changed nothing means.
    unchanged_note: ClassVar[str] = ""
    # The reference run sets this variation's reference value; False when the reference is
    # the machine as it is (nothing to set, and finding out what it is costs a probe).
    pins_reference: ClassVar[bool] = True
    # The cooperation variable the training must read for this variation to vary anything.
    reads: ClassVar[str | None] = None

    @abstractmethod
    def reference(self, ws: Workspace) -> Side:
        """The reference value, which every run but this variation's varied one gets."""

    @abstractmethod
    def varied(self, ws: Workspace) -> Side:
        """The varied value (built only when asked: it may copy the project or create folders)."""

    def unavailable(self, ws: Workspace) -> str | None:
        """Why this variation cannot vary anything on this machine (`not exercised`), or None when it can."""
        return None

    def not_applicable(self, ws: Workspace) -> str | None:
        """Why this variation means nothing for this kind of training (`not applicable`), or None."""
        return None


class OneVariable(Variation):
    """A variation of one environment variable: `VARIABLE=reference` -> `varied`."""

    variable: ClassVar[str]
    values: ClassVar[tuple[str, str]]

    def reference(self, ws: Workspace) -> Side:
        return Side(f"{self.variable}={self.values[0]}", {self.variable: self.values[0]})

    def varied(self, ws: Workspace) -> Side:
        return Side(self.values[1], {self.variable: self.values[1]})
