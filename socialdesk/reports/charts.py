"""Small server-rendered SVG charts: stacked columns and stacked horizontal bars.

Pure functions from numbers to markup, so pages need no chart library and the geometry
is testable. Every chart carries a <title> and an aria-label with its numbers in words;
the page keeps the table beside it for anyone who would rather read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# One CSS class per series position (styled in app.css); more series cycle.
SERIES_CLASSES = ("s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7")


@dataclass(frozen=True, slots=True)
class Segment:
    series: int
    start: float  # pixels from the baseline
    length: float
    value: float


def stack(values: Sequence[float], scale: float) -> list[Segment]:
    """Segments for one stacked bar: each value's offset and length at ``scale`` px/unit;
    zero or negative values draw nothing."""
    segments: list[Segment] = []
    offset = 0.0
    for series, value in enumerate(values):
        if value <= 0:
            continue
        length = value * scale
        segments.append(Segment(series, offset, length, value))
        offset += length
    return segments


def scale_for(totals: Sequence[float], length: float) -> float:
    """Pixels per unit so the largest total fills ``length`` (1.0 when all are zero)."""
    largest = max((t for t in totals if t > 0), default=0.0)
    return length / largest if largest else 1.0


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _describe(
    title: str, labels: Sequence[str], rows: Sequence[Sequence[float]], series: Sequence[str]
) -> str:
    parts = []
    for label, values in zip(labels, rows, strict=True):
        shown = ", ".join(
            f"{name} {_number(v)}" for name, v in zip(series, values, strict=False) if v
        )
        parts.append(f"{label}: {shown or 'none'}")
    return f"{title}. " + "; ".join(parts)


def _tip(label: str, series_name: str, value: float) -> str:
    return f"<title>{escape(label)}: {escape(series_name)} {_number(value)}</title>"


def _legend(series: Sequence[str], y: float) -> str:
    items = []
    x = 0.0
    for i, name in enumerate(series):
        css = SERIES_CLASSES[i % len(SERIES_CLASSES)]
        items.append(
            f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="10" height="10"/>'
            f'<text x="{x + 14:.1f}" y="{y + 9:.1f}">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return "".join(items)


def stacked_columns(
    labels: Sequence[str],
    rows: Sequence[Sequence[float]],
    series: Sequence[str],
    *,
    title: str,
    width: int = 560,
    height: int = 160,
    label_every: int = 1,
) -> Markup:
    """Vertical stacked columns, one per label (e.g. posts per hour, split by network)."""
    if len(labels) != len(rows):
        raise ValueError("one row of values per label")
    plot_top, axis = 12.0, 18.0
    legend_height = 18.0 if len(series) > 1 else 0.0
    plot_height = height - plot_top - axis - legend_height
    totals = [sum(v for v in row if v > 0) for row in rows]
    scale = scale_for(totals, plot_height)
    slot = width / max(1, len(labels))
    bar = max(1.0, slot * 0.72)
    baseline = plot_top + plot_height
    shapes = [f'<line class="axis" x1="0" y1="{baseline:.1f}" x2="{width}" y2="{baseline:.1f}"/>']
    for i, (label, row) in enumerate(zip(labels, rows, strict=True)):
        x = i * slot + (slot - bar) / 2
        for seg in stack(row, scale):
            css = SERIES_CLASSES[seg.series % len(SERIES_CLASSES)]
            shapes.append(
                f'<rect class="{css}" x="{x:.1f}" y="{baseline - seg.start - seg.length:.1f}" '
                f'width="{bar:.1f}" height="{seg.length:.1f}">'
                f"{_tip(label, series[seg.series], seg.value)}</rect>"
            )
        if i % max(1, label_every) == 0:
            shapes.append(
                f'<text class="tick" x="{x + bar / 2:.1f}" y="{baseline + 13:.1f}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    peak = max(totals, default=0)
    shapes.append(f'<text class="peak" x="0" y="9">max {_number(peak)}</text>')
    if legend_height:
        shapes.append(_legend(series, height - 12))
    return _svg(title, _describe(title, labels, rows, series), width, height, shapes)


def stacked_rows(
    labels: Sequence[str],
    rows: Sequence[Sequence[float]],
    series: Sequence[str],
    *,
    title: str,
    width: int = 560,
    row_height: int = 22,
    label_width: int = 130,
    limits: Sequence[float | None] | None = None,
) -> Markup:
    """Horizontal stacked bars, one per label (e.g. open tickets per network by status).
    ``limits`` draws a marker per row (e.g. an agent's capacity)."""
    if len(labels) != len(rows):
        raise ValueError("one row of values per label")
    legend_height = 20.0 if len(series) > 1 else 0.0
    height = int(len(labels) * row_height + legend_height + 4)
    plot_width = width - label_width - 50
    totals = [sum(v for v in row if v > 0) for row in rows]
    marks = list(limits or [None] * len(labels))
    scale = scale_for([*totals, *(m for m in marks if m)], plot_width)
    shapes = []
    for i, (label, row) in enumerate(zip(labels, rows, strict=True)):
        y = i * row_height + 2
        shapes.append(
            f'<text class="row-label" x="{label_width - 6}" y="{y + row_height * 0.65:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for seg in stack(row, scale):
            css = SERIES_CLASSES[seg.series % len(SERIES_CLASSES)]
            shapes.append(
                f'<rect class="{css}" x="{label_width + seg.start:.1f}" y="{y:.1f}" '
                f'width="{seg.length:.1f}" height="{row_height - 6}">'
                f"{_tip(label, series[seg.series], seg.value)}</rect>"
            )
        shapes.append(
            f'<text class="total" x="{label_width + totals[i] * scale + 4:.1f}" '
            f'y="{y + row_height * 0.65:.1f}">{_number(totals[i])}</text>'
        )
        limit = marks[i]
        if limit:
            x = label_width + limit * scale
            shapes.append(
                f'<line class="limit" x1="{x:.1f}" y1="{y - 1:.1f}" x2="{x:.1f}" '
                f'y2="{y + row_height - 3:.1f}"><title>limit {_number(limit)}</title></line>'
            )
    if legend_height:
        shapes.append(_legend(series, height - 14))
    return _svg(title, _describe(title, labels, rows, series), width, height, shapes)


HEAT_LEVELS = 6  # classes h0 (none) … h5 (the busiest cell), styled in app.css


def heat_level(value: float, peak: float) -> int:
    """0 for nothing, else 1…5 by the share of the busiest cell (a class, not a style:
    the CSP allows no inline styles)."""
    if value <= 0 or peak <= 0:
        return 0
    return max(1, min(HEAT_LEVELS - 1, int(-(-value * (HEAT_LEVELS - 1) // peak))))


def heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    grid: Sequence[Sequence[float]],
    *,
    title: str,
    width: int = 560,
    label_width: int = 40,
    cell_height: int = 18,
    label_every: int = 3,
    unit: str = "posts",
) -> Markup:
    """A grid of shaded cells (e.g. posts by weekday and hour); darker is busier."""
    if len(row_labels) != len(grid) or any(len(r) != len(column_labels) for r in grid):
        raise ValueError("one row of values per row label, one value per column label")
    cell = (width - label_width) / max(1, len(column_labels))
    height = int(len(row_labels) * cell_height + 16)
    peak = max((v for row in grid for v in row), default=0)
    shapes = []
    for i, (label, row) in enumerate(zip(row_labels, grid, strict=True)):
        y = i * cell_height
        shapes.append(
            f'<text class="row-label" x="{label_width - 6}" y="{y + cell_height * 0.7:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for j, value in enumerate(row):
            shapes.append(
                f'<rect class="h{heat_level(value, peak)}" x="{label_width + j * cell:.1f}" '
                f'y="{y:.1f}" width="{cell - 1:.1f}" height="{cell_height - 1}">'
                f"{_tip(f'{label} {column_labels[j]}', unit, value)}</rect>"
            )
    baseline = len(row_labels) * cell_height + 12
    for j, label in enumerate(column_labels):
        if j % max(1, label_every) == 0:
            shapes.append(
                f'<text class="tick" x="{label_width + j * cell:.1f}" y="{baseline}">'
                f"{escape(label)}</text>"
            )
    busiest = [
        f"{row_labels[i]} {column_labels[j]} {_number(v)}"
        for i, row in enumerate(grid)
        for j, v in enumerate(row)
        if v == peak and peak > 0
    ][:3]
    description = f"{title}. Busiest: {', '.join(busiest) or 'none'}"
    return _svg(title, description, width, height, shapes)


def _svg(title: str, description: str, width: int, height: int, shapes: list[str]) -> Markup:
    return Markup(  # noqa: S704 - every label and title above is escaped
        f'<svg class="chart" role="img" aria-label="{escape(description)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>{''.join(shapes)}</svg>"
    )
