"""The one error of the variation hunt, a `ReproError` so that the command lines map it to exit code 2."""

from __future__ import annotations

from pytest_repro.errors import ReproError


class VariationError(ReproError):
    """The variations could not be compared: a usage error, or the reference training failed."""
