"""Seeds: does the training consume its seed at all, and how much do the metrics move across seeds.

A reproducibility check passes trivially when nothing consumes the seed: two runs agree
because no randomness reaches the output, not because it is controlled.  Training once
more with seed+1 tells the cases apart:

- nothing changed (model, other artifacts, folds, metrics): the seed is unused, warned
  about with `ReproSeedWarning` (a failure with `--repro-seed-sensitivity=fail`);
- the model alone stayed the same while folds or metrics moved: legitimate (a
  deterministic solver fitted on all the data), reported as information;
- the model changed: the seed is used.

Outputs are compared modulo the seed showing through: estimators' `random_state`
parameters, and any JSON leaf that holds the seed in one run and seed+1 in the other.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.core.outcomes import Outcome
from pytest_repro.core.run_records import RunRecord

UNUSED, MODEL_INDEPENDENT, USED = Outcome.SEED_UNUSED, Outcome.MODEL_SEED_INDEPENDENT, Outcome.SEED_USED


class ReproSeedWarning(UserWarning):
    """Training with another seed changed no output: the reproducibility check passes trivially."""


def configured_seed(seed: int | None, config_path: Path) -> int | None:
    """Return the seed the runs use: the one given, else the config's top-level `seed`, else None."""
    from pytest_repro.core.config_files import config_seed

    return seed if seed is not None else config_seed(config_path)


@dataclass(frozen=True)
class Sensitivity:
    """Which outputs changed between a run with `seed` and one with `other`."""

    seed: int
    other: int
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    models: tuple[str, ...]  # the outputs that are fitted models (by content, whatever their names)

    @property
    def verdict(self) -> Outcome:
        """`seed unused`, `model seed-independent` or `seed used`."""
        if not self.changed:
            return UNUSED
        if self.models and not set(self.models) & set(self.changed):
            return MODEL_INDEPENDENT
        return USED

    def message(self) -> str:
        """Explain the verdict in one paragraph."""
        if self.verdict == UNUSED:
            return (
                f"seed {self.seed} and seed {self.other} give identical outputs "
                f"({', '.join(self.unchanged)}): nothing consumes the seed, so the reproducibility "
                "checks pass trivially. Seed the estimators, splitters and samplers from it "
                "(random_state=seed), or fix what overrides it."
            )
        if self.verdict == MODEL_INDEPENDENT:
            return (
                f"the model is the same with seed {self.seed} and {self.other} (a deterministic fit on "
                f"all the data); {', '.join(self.changed)} changed with the seed"
            )
        return f"seed {self.other} changed {', '.join(self.changed)}"


def seed_sensitivity(a: RunRecord, b: RunRecord, seed_a: int, seed_b: int) -> Sensitivity:
    """Compare the outputs of runs with two seeds, modulo the seed showing through."""
    from pytest_repro.diagnose.content_kind import MODEL_KINDS, artifact_kind
    from pytest_repro.diagnose.digests import same_model_except, without_seed_echo

    changed, unchanged, models = [], [], []
    for name in sorted(set(a.artifacts) | set(b.artifacts)):
        if name not in a.artifacts or name not in b.artifacts:
            changed.append(name)
            continue
        path_a, path_b = a.artifacts[name], b.artifacts[name]
        # A pickled estimator, a LightGBM/XGBoost/CatBoost model file, tensors, or what the training calls its model.
        is_model = artifact_kind(path_a, path_b) in MODEL_KINDS
        if is_model or name == "model":
            models.append(name)
        if a.hashes.get(name) == b.hashes.get(name):
            same = True
        elif is_model:
            # A seed stored as random_state (LightGBM's seed and the seeds it derives) is the input
            # showing through, not a learned difference; the trees themselves are compared.
            same = same_model_except(path_a, path_b, ("random_state",))
        elif path_a.suffix == ".json":
            same = _same_json(path_a, path_b, seed_a, seed_b)
        else:
            same = False
        (unchanged if same else changed).append(name)
    if a.folds is not None or b.folds is not None:
        (unchanged if a.folds == b.folds else changed).append("folds")
    metrics_a, metrics_b = without_seed_echo(a.metrics, b.metrics, seed_a, seed_b)
    if metrics_a != metrics_b:
        # The returned metrics and a `metrics` artifact are one output to a reader.
        unchanged = [name for name in unchanged if name != "metrics"]
        changed.append("metrics")
    elif "metrics" not in changed:
        unchanged.append("metrics")
    changed, unchanged = list(dict.fromkeys(changed)), list(dict.fromkeys(unchanged))
    return Sensitivity(seed_a, seed_b, tuple(changed), tuple(unchanged), tuple(models))


def _same_json(path_a: Path, path_b: Path, seed_a: int, seed_b: int) -> bool:
    from pytest_repro.diagnose.digests import without_seed_echo

    try:
        data_a = json.loads(path_a.read_text(encoding="utf-8"))
        data_b = json.loads(path_b.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stripped_a, stripped_b = without_seed_echo(data_a, data_b, seed_a, seed_b)
    return stripped_a == stripped_b


# ----------------------------------------------------------------------------- the sweep's spread


@dataclass(frozen=True)
class MetricSpread:
    """One scalar metric across the swept seeds: its value per seed and their statistics."""

    pointer: str
    values: tuple[tuple[int, float], ...]  # (seed, value), by seed

    @property
    def numbers(self) -> list[float]:
        return [value for _, value in self.values]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.numbers)

    @property
    def std(self) -> float:
        return statistics.stdev(self.numbers)

    @property
    def low(self) -> float:
        return min(self.numbers)

    @property
    def high(self) -> float:
        return max(self.numbers)


def metric_spreads(metrics_by_seed: Mapping[int, Mapping[str, Any]]) -> tuple[list[MetricSpread], int]:
    """The scalar metrics that vary across the swept seeds, and how many stayed constant.

    Metrics that echo the seed, or that are missing in some runs, are left out.  The
    terminal summary and the HTML report's plot both read this one selection.
    """
    from pytest_repro.diagnose.digests import numeric_leaves

    seeds = sorted(metrics_by_seed)
    leaves = {seed: numeric_leaves(metrics_by_seed[seed]) for seed in seeds}
    common = set.intersection(*(set(found) for found in leaves.values())) if seeds else set()
    spreads, constant = [], 0
    for pointer in sorted(common):
        if any(len(leaves[seed][pointer]) != 1 for seed in seeds):
            continue
        values = [leaves[seed][pointer][0] for seed in seeds]
        if values == [float(seed) for seed in seeds]:
            continue
        if min(values) == max(values):
            constant += 1
            continue
        spreads.append(MetricSpread(pointer, tuple(zip(seeds, values, strict=True))))
    return spreads, constant


def spread_lines(metrics_by_seed: Mapping[int, Mapping[str, Any]], limit: int = 25) -> list[str]:
    """Mean, standard deviation, min and max of each scalar metric across the swept seeds.

    Constant metrics are counted, not listed.
    """
    if len(metrics_by_seed) < 2:
        return []
    seeds = sorted(metrics_by_seed)
    rows, constant = metric_spreads(metrics_by_seed)
    lines = [f"seed sweep: spread of the metrics across {len(seeds)} seeds ({seed_ranges(seeds)})"]
    if rows:
        width = max(len("metric"), *(len(row.pointer) for row in rows[:limit]))
        lines.append(f"{'metric':<{width}}  {'mean':>11}  {'std':>11}  {'min':>11}  {'max':>11}")
        for row in rows[:limit]:
            lines.append(
                f"{row.pointer:<{width}}  {format_number(row.mean):>11}  {format_number(row.std):>11}  {format_number(row.low):>11}  {format_number(row.high):>11}"
            )
        if len(rows) > limit:
            lines.append(f"(+{len(rows) - limit} more metrics)")
    else:
        lines.append("no metric varies with the seed")
    if constant:
        lines.append(f"({constant} metric{'s' if constant > 1 else ''} constant across seeds not shown)")
    return lines


def seed_ranges(seeds: Sequence[int]) -> str:
    """Render sorted seeds compactly: 0-4,7,9-10."""
    parts: list[str] = []
    start = previous = None
    for seed in sorted(seeds):
        if previous is not None and seed == previous + 1:
            previous = seed
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = seed
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ",".join(parts)


def format_number(value: float) -> str:
    """Six significant digits, as the spread table shows a metric."""
    return f"{value:.6g}" if math.isfinite(value) else str(value)
