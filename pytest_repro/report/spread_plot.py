"""The seed sweep's spread: one row per metric, each seed a dot on that metric's own min-max scale.

Metrics live on different scales (an accuracy, a count), so each row is scaled to its
own range and labelled with its min and max; the band is mean ± one standard
deviation and the tick the mean.  Coordinates are rounded, so the same sweep always
draws the same SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_repro.report.markup import note, table, text
from pytest_repro.variations.seeds import MetricSpread, format_number, metric_spreads, seed_ranges

PLOTTED = 12  # rows in the plot; the table below lists every metric
LABEL_WIDTH = 230
PLOT_WIDTH = 330
VALUE_WIDTH = 200
ROW_HEIGHT = 38
TOP = 12
LABEL_CHARS = 34


def render_seed_section(metrics_by_seed: Mapping[int, Mapping[str, Any]]) -> str:
    """The plot and the table of the spread (mean, std, min, max per metric)."""
    seeds = sorted(metrics_by_seed)
    spreads, constant = metric_spreads(metrics_by_seed)
    parts = [f"<p>{len(seeds)} seeds ({text(seed_ranges(seeds))}); the metrics of each seed's run-a.</p>"]
    if not spreads:
        parts.append(note("no metric varies with the seed"))
    else:
        parts.append(spread_svg(spreads[:PLOTTED]))
        if len(spreads) > PLOTTED:
            parts.append(
                note(f"the plot shows the first {PLOTTED} of {len(spreads)} metrics; the table lists all")
            )
        parts.append(_spread_table(spreads))
    if constant:
        parts.append(note(f"{constant} metric{'s' if constant > 1 else ''} constant across seeds not shown"))
    return "".join(parts)


def spread_svg(spreads: Sequence[MetricSpread]) -> str:
    """One inline SVG with a row per metric."""
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    height = TOP + ROW_HEIGHT * len(spreads)
    rows = "".join(_metric_row(spread, TOP + index * ROW_HEIGHT) for index, spread in enumerate(spreads))
    label = f"spread of {len(spreads)} metrics across the swept seeds"
    return (
        f'<svg class="spread" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{text(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{rows}</svg>'
    )


def _metric_row(spread: MetricSpread, top: int) -> str:
    low, high = spread.low, spread.high
    left, right = LABEL_WIDTH + 10, LABEL_WIDTH + PLOT_WIDTH - 10
    middle = top + 14

    def x(value: float) -> float:
        return round(left + (value - low) / (high - low) * (right - left), 1)

    band_left, band_right = x(max(low, spread.mean - spread.std)), x(min(high, spread.mean + spread.std))
    name = spread.pointer if len(spread.pointer) <= LABEL_CHARS else "…" + spread.pointer[-LABEL_CHARS + 1 :]
    dots = "".join(
        f'<circle cx="{x(value)}" cy="{middle}" r="4"><title>{text(f"seed {seed}: {format_number(value)}")}'
        "</title></circle>"
        for seed, value in spread.values
    )
    return (
        f'<g class="metric"><title>{text(spread.pointer)}</title>'
        f'<text x="0" y="{middle + 4}" class="label">{text(name)}</text>'
        f'<rect x="{band_left}" y="{middle - 7}" width="{round(band_right - band_left, 1)}" height="14" class="band"/>'
        f'<line x1="{left}" y1="{middle}" x2="{right}" y2="{middle}" class="axis"/>'
        f'<line x1="{x(spread.mean)}" y1="{middle - 9}" x2="{x(spread.mean)}" y2="{middle + 9}" class="mean"/>'
        f"{dots}"
        f'<text x="{left}" y="{middle + 20}" class="bound">{text(format_number(low))}</text>'
        f'<text x="{right}" y="{middle + 20}" class="bound end">{text(format_number(high))}</text>'
        f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 8}" y="{middle + 4}" class="value">'
        f"{text(f'{format_number(spread.mean)} ± {format_number(spread.std)}')}</text></g>"
    )


def _spread_table(spreads: Sequence[MetricSpread]) -> str:
    rows = [
        "<tr>"
        + f"<th>{text(s.pointer)}</th>"
        + "".join(f'<td class="number">{text(format_number(v))}</td>' for v in (s.mean, s.std, s.low, s.high))
        + "</tr>"
        for s in spreads
    ]
    return table(("metric", "mean", "std", "min", "max"), rows, cls="compact")
