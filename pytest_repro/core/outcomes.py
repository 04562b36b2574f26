"""The one outcome vocabulary: every word a check, a variation or a report may say about a result.

The terminal's reproducibility table, the JUnit properties (`repro_outcome`), the HTML
report (its colours and its verdict's counts) and `repro-vary` all read an outcome from
here, so a word means one thing everywhere.  Each outcome has a `Kind`: what it means
for the verdict.  An outcome of the `SKIPPED` kind says that nothing was compared, and
never counts as passed: no verdict without evidence.
"""

from __future__ import annotations

from enum import Enum


class Kind(Enum):
    """What an outcome means for the verdict."""

    PASSED = "passed"  # something was compared and agreed
    FAILED = "failed"  # something was compared and disagreed, or could not be produced
    WARNING = "warning"  # reported, never failed (a portability finding, an informational change)
    SKIPPED = "skipped"  # nothing was compared; the detail says why


class Outcome(str, Enum):
    """One result word; `shown(detail)` is how the terminal and the reports print it."""

    # Something was compared and agreed.
    IDENTICAL = "identical"  # the same bytes (or folds)
    EQUAL = "equal"  # the same values, within the tolerance (metrics)
    VERIFIED = "verified"  # a lineage matches its files
    REPRODUCED = "reproduced"  # a fresh run reproduces a recorded lineage
    UNCHANGED = "unchanged"  # an informational variation moved nothing
    SEED_USED = "seed used"  # another seed changes the output
    IGNORED = "ignored (declared)"  # compared; every difference was declared volatile (repro_ignore)
    # Something was compared and disagreed, or could not be produced.
    DIFFERS = "differs"
    MISMATCH = "mismatch"  # a lineage does not match its files
    INVALID = "invalid"  # a lineage cannot be read, a repro_ignore declaration cannot be applied
    FAILED = "failed"  # a training did not finish
    INTERACTION = "interaction"  # only the variations together change the output
    # Reported, never failed.
    INCONCLUSIVE = "inconclusive"  # nothing can be blamed: the runs differ without it
    CHANGED = "changed"  # an informational variation (row order) moved the output
    PORTABILITY = "portability"  # another machine's kernels moved the output
    SEED_UNUSED = "seed unused"
    MODEL_SEED_INDEPENDENT = "model seed-independent"
    # Nothing was compared.
    SKIPPED = "skipped"  # the check has nothing to compare (no folds, no metrics configured)
    NOT_RUN = "not run"  # the run it needs failed; that failure is reported once, by another check
    NOT_EXERCISED = "not exercised"  # the variation could not vary anything in this training or machine
    NOT_APPLICABLE = "not applicable"  # the variation means nothing for this kind of training

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def kind(self) -> Kind:
        return _KINDS[self]

    def shown(self, detail: str = "") -> str:
        """The outcome with its detail: `skipped: why` when nothing was compared, else `word (detail)`."""
        if not detail:
            return self.value
        if self.kind is Kind.SKIPPED or self.value.endswith(")"):
            return f"{self.value}: {detail}"
        return f"{self.value} ({detail})"

    @classmethod
    def parse(cls, word: str) -> Outcome | None:
        """The outcome a word (as stored in a report or JSON) names, or None for an unknown word."""
        try:
            return cls(word.strip().rstrip("*"))
        except ValueError:
            return None


_KINDS = {
    **dict.fromkeys(
        (
            Outcome.IDENTICAL,
            Outcome.EQUAL,
            Outcome.VERIFIED,
            Outcome.REPRODUCED,
            Outcome.UNCHANGED,
            Outcome.SEED_USED,
            Outcome.IGNORED,
        ),
        Kind.PASSED,
    ),
    **dict.fromkeys(
        (Outcome.DIFFERS, Outcome.MISMATCH, Outcome.INVALID, Outcome.FAILED, Outcome.INTERACTION),
        Kind.FAILED,
    ),
    **dict.fromkeys(
        (
            Outcome.INCONCLUSIVE,
            Outcome.CHANGED,
            Outcome.PORTABILITY,
            Outcome.SEED_UNUSED,
            Outcome.MODEL_SEED_INDEPENDENT,
        ),
        Kind.WARNING,
    ),
    **dict.fromkeys(
        (Outcome.SKIPPED, Outcome.NOT_RUN, Outcome.NOT_EXERCISED, Outcome.NOT_APPLICABLE), Kind.SKIPPED
    ),
}
