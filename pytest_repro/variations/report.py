"""What the hunt found: one `VariationResult` per variation, the `VariationReport`, its JSON, table and verdict."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core.outcomes import Kind, Outcome
from pytest_repro.core.paths import shown_path
from pytest_repro.diagnose.difference import Difference
from pytest_repro.variations.catalogue import ALONE

TABLE_DETAIL = 90


@dataclass(frozen=True)
class VariationResult:
    """What one varied run showed, compared with the reference."""

    name: str
    reference: str
    varied: str
    # identical | differs | failed | inconclusive | changed | unchanged | portability, or
    # not exercised | not applicable when nothing was varied (`note` says why)
    status: Outcome
    tested: str  # alone | together
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    metric_deltas: Mapping[str, float] | None = None
    note: str = ""
    cause: str = ""  # `cause: FILE:LINE ...`, the recorded event the variation changed (see diagnose.causes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Outcome(self.status))  # a word read back from JSON

    @property
    def broke(self) -> bool:
        """Whether this outcome means reproducibility broke (row_order never does): a failure, or no one to blame."""
        return self.status.kind is Kind.FAILED or self.status is Outcome.INCONCLUSIVE

    @property
    def varied_nothing(self) -> bool:
        """Whether nothing was varied: `not exercised` or `not applicable`."""
        return self.status.kind is Kind.SKIPPED

    def what_differed(self) -> str:
        """One line: the subjects that differ and the first summary, or the row-order deltas."""
        if self.error:
            return f"training failed: {self.error.splitlines()[0]}"
        subjects = ", ".join(dict.fromkeys(d.subject for d in self.differences))
        if self.metric_deltas:
            # Whole-number moves are counts (a confusion matrix); the scores say more in one line.
            scores = {k: v for k, v in self.metric_deltas.items() if v != int(v)} or self.metric_deltas
            largest = sorted(scores.items(), key=lambda item: -item[1])[:3]
            moved = ", ".join(f"{pointer} {delta:.3g}" for pointer, delta in largest)
            return f"{subjects} changed; {len(self.metric_deltas)} metrics moved, e.g. |Δ| {moved}"
        if not self.differences:
            return self.note
        return f"{subjects}: {self.differences[0].summary}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reference": self.reference,
            "varied": self.varied,
            "status": self.status.value,
            "tested": self.tested,
            "differences": [
                {"subject": d.subject, "summary": d.summary, "details": list(d.details)}
                for d in self.differences
            ],
            "error": self.error,
            "metric_deltas": dict(self.metric_deltas) if self.metric_deltas is not None else None,
            "note": self.note,
            "cause": self.cause,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VariationResult:
        return cls(
            name=data["name"],
            reference=data["reference"],
            varied=data["varied"],
            status=Outcome(data["status"]),
            tested=data["tested"],
            differences=tuple(
                Difference(d["subject"], d["summary"], tuple(d["details"])) for d in data["differences"]
            ),
            error=data["error"],
            metric_deltas=data["metric_deltas"],
            note=data.get("note", ""),
            cause=data.get("cause", ""),
        )


@dataclass(frozen=True)
class VariationReport:
    """The auto-mode result: per variation, whether the output stayed the same and what changed."""

    entry: str
    config: str
    seed: int | None
    tolerance: float
    selected: tuple[str, ...]
    outcomes: dict[str, VariationResult]
    combined: VariationResult | None
    control: VariationResult | None
    trainings: int
    moved: tuple[str, ...] = ()
    moved_to: str = ""
    # What the reference run produced (its artifacts, then folds and metrics): the
    # columns of the HTML report's variation matrix.
    outputs: tuple[str, ...] = ()

    @property
    def interaction(self) -> bool:
        """The combined run differs although no variation alone does."""
        checked = [o for o in self.outcomes.values() if o.name not in ALONE and not o.varied_nothing]
        return (
            self.combined is not None
            and self.combined.broke
            and not (self.control is not None and self.control.broke)
            and bool(checked)
            and all(o.status is Outcome.IDENTICAL and o.tested == "alone" for o in checked)
        )

    @property
    def reproducible(self) -> bool:
        """No variation (row_order aside) changed the output, alone or combined."""
        if self.interaction or (self.control is not None and self.control.broke):
            return False
        return not any(o.broke for o in self.outcomes.values())

    def broken(self) -> list[str]:
        """Names of the variations that changed the output."""
        return [name for name, outcome in self.outcomes.items() if outcome.broke]

    def not_portable(self) -> list[str]:
        """Names of the portability variations (another machine's kernels) that changed the output."""
        return [name for name, outcome in self.outcomes.items() if outcome.status is Outcome.PORTABILITY]

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "config": self.config,
            "seed": self.seed,
            "tolerance": self.tolerance,
            "selected": list(self.selected),
            "reproducible": self.reproducible,
            "broken_by": self.broken(),
            "not_portable_under": self.not_portable(),
            "interaction": self.interaction,
            "trainings": self.trainings,
            "combined": self.combined.to_json() if self.combined else None,
            "control": self.control.to_json() if self.control else None,
            "variations": [outcome.to_json() for outcome in self.outcomes.values()],
            "moved": list(self.moved),
            "moved_to": self.moved_to,
            "outputs": list(self.outputs),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VariationReport:
        outcomes = [VariationResult.from_json(item) for item in data["variations"]]
        return cls(
            entry=data["entry"],
            config=data["config"],
            seed=data["seed"],
            tolerance=data["tolerance"],
            selected=tuple(data["selected"]),
            outcomes={outcome.name: outcome for outcome in outcomes},
            combined=VariationResult.from_json(data["combined"]) if data["combined"] else None,
            control=VariationResult.from_json(data["control"]) if data["control"] else None,
            trainings=data["trainings"],
            moved=tuple(data.get("moved", ())),
            moved_to=data.get("moved_to", ""),
            outputs=tuple(data.get("outputs", ())),
        )


def save_json(report: VariationReport, path: Path) -> None:
    """Write the report as JSON (atomically)."""
    from pytest_repro.lineage.atomic import write_json_atomic

    write_json_atomic(path, report.to_json())


# ----------------------------------------------------------------------------- rendering


def rerun_command(
    report: VariationReport, names: Sequence[str], here: Path, *, fail_portability: bool = False
) -> str:
    """The `repro-vary` line that retrains `names` as this hunt did, run as printed in `here` (the project).

    `--config` only when the training has a config file (a command project may have
    none: its ini names everything), `--seed` when the runs were given one, and the
    tolerance and portability mode when they are not the defaults.  `repro-vary` reads
    the rest (the training, its outputs, the timeout, the isolation) from the same ini.
    """
    words = ["repro-vary", "--vary", ",".join(names)]
    config = Path(report.config)
    if config.is_file():
        words += ["--config", shown_path(config, here)]
    if report.seed is not None:
        words += ["--seed", str(report.seed)]
    if report.tolerance:
        words += ["--tolerance", repr(report.tolerance)]
    if fail_portability:
        words += ["--portability", "fail"]
    return shlex.join(words)


def table_rows(report: VariationReport) -> list[tuple[str, str, str, str]]:
    """The table's rows: variation, reference -> varied, result, what differed (in full)."""
    rows = []
    for outcome in report.outcomes.values():
        status = (
            outcome.status.value
            if outcome.tested == "alone" or outcome.status is not Outcome.IDENTICAL
            else "identical*"
        )
        rows.append(
            (outcome.name, f"{outcome.reference} -> {outcome.varied}", status, outcome.what_differed())
        )
    if report.combined is not None:
        checked = ", ".join(
            name
            for name, outcome in report.outcomes.items()
            if name not in ALONE and not outcome.varied_nothing
        )
        rows.append(
            (
                "(all at once)",
                f"reference -> {checked}",
                report.combined.status.value,
                report.combined.what_differed(),
            )
        )
    if report.control is not None:
        rows.append(
            (
                "(control)",
                "reference -> reference again",
                report.control.status.value,
                report.control.what_differed(),
            )
        )
    return rows


TOGETHER_NOTE = "* identical in the run that varied all of them at once"


def table_lines(report: VariationReport) -> list[str]:
    """The variation | reference -> varied | result | what differed table, then the verdict."""
    rows = [("variation", "reference -> varied", "result", "what differed")]
    rows += [(name, change, status, _cut(what)) for name, change, status, what in table_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip()
        for row in rows
    ]
    if any(o.tested == "together" and o.status is Outcome.IDENTICAL for o in report.outcomes.values()):
        lines.append(TOGETHER_NOTE)
    lines.append(verdict(report))
    return lines


def verdict(report: VariationReport) -> str:
    """One sentence: reproducible under every variation, or which ones broke it."""
    runs = f"({report.trainings} trainings)"
    if report.control is not None and report.control.broke:
        return (
            "NOT reproducible even without any variation: the control run differs from the reference "
            f"(pytest --repro shows why) {runs}"
        )
    if report.interaction:
        return f"NOT reproducible: only the combination of variations changes the output {runs}"
    broken = report.broken()
    moved = report.not_portable()
    portability = (
        f"; another machine may differ: {', '.join(moved)} changed the output (portability)" if moved else ""
    )
    if broken:
        return f"NOT reproducible under: {', '.join(broken)}{portability} {runs}"
    return f"reproducible under every variation checked{portability} {runs}"


def detail_lines(report: VariationReport) -> list[str]:
    """The full differences of every variation that changed something."""
    lines: list[str] = []
    shown = [*report.outcomes.values(), *(o for o in (report.combined, report.control) if o is not None)]
    for outcome in shown:
        if outcome.differences or outcome.error:
            lines.append("")
            lines.extend(outcome_detail_lines(outcome))
    if report.moved:
        lines.append("")
        lines.append(f"path: copied {', '.join(report.moved)} to {report.moved_to}")
    return lines


def outcome_detail_lines(outcome: VariationResult) -> list[str]:
    """The heading, error, differences, metric moves and note of one outcome."""
    lines = [f"{outcome.name}: {outcome.reference} -> {outcome.varied} ({outcome.status})"]
    if outcome.cause:
        lines.append(f"  {outcome.cause}")
    if outcome.error:
        lines.extend(f"  {line}" for line in outcome.error.splitlines())
    for difference in outcome.differences:
        lines.extend(f"  {line}" for line in difference.render().splitlines())
    if outcome.metric_deltas:
        lines.append("  largest |Δ| per metric:")
        for pointer, delta in sorted(outcome.metric_deltas.items(), key=lambda item: -item[1]):
            lines.append(f"    {pointer}: {delta:.6g}")
    if outcome.note:
        lines.append(f"  note: {outcome.note}")
    return lines


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TABLE_DETAIL else text[: TABLE_DETAIL - 1] + "…"
