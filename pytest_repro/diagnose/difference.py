"""The record every diagnosis returns: what differs between two runs, and the lines explaining it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Difference:
    """One artifact or value that differs between two runs, explained."""

    subject: str
    summary: str
    details: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers naturally build details as lists; keep the record hashable and immutable.
        object.__setattr__(self, "details", tuple(self.details))

    def render(self) -> str:
        """Return the summary followed by the details, one per indented line."""
        return "\n".join([self.summary, *(f"  {line}" for line in self.details)])


def differs_verb(subject: str) -> str:
    """Return the verb that agrees with `subject`, so that summaries read as sentences."""
    # "metrics differ", "folds differ", but "threshold differs", "model.joblib differs".
    return "differ" if subject.endswith("s") else "differs"
