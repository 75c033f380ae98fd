"""Geometry for the dashboard's server-rendered SVG charts.

The strict content security policy allows no inline script and no inline
style, so charts are plain SVG shapes whose size lies in attributes
(``x``, ``y``, ``width``, ``height``, ``points``) computed here, and whose
colours come from onthaal/static/onthaal/stats.css. Every chart on the page
has a text title and sits next to a table with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float


@dataclass
class ColumnChart:
    """Vertical bars with their labels under them."""

    width: int
    height: int
    baseline: float
    bars: list[Bar] = field(default_factory=list)


@dataclass
class BarChart:
    """Horizontal bars, a label at the left, the value at the bar's end."""

    width: int
    height: int
    label_width: int
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class Series:
    name: str
    points: str  # the polyline's "x,y x,y …"
    dots: list[tuple[float, float, float]]  # (x, y, value)


@dataclass
class LineChart:
    width: int
    height: int
    baseline: float
    labels: list[tuple[float, str]]  # (x, text) along the bottom
    series: list[Series] = field(default_factory=list)
    top_value: float = 0


def column_chart(
    items: list[tuple[str, float | None]], *, height: int = 180, column: int = 44
) -> ColumnChart:
    """Columns for (label, value) pairs; None counts as 0."""
    top = 24.0  # room for the value above the tallest column
    bottom = 28.0  # room for the labels
    width = max(column * len(items), column)
    plot = height - top - bottom
    largest = max((value or 0 for _, value in items), default=0) or 1
    chart = ColumnChart(width=width, height=height, baseline=height - bottom)
    for index, (label, value) in enumerate(items):
        size = plot * (value or 0) / largest
        x = index * column + column * 0.15
        chart.bars.append(
            Bar(
                label=label,
                value=value or 0,
                x=round(x, 1),
                y=round(height - bottom - size, 1),
                width=round(column * 0.7, 1),
                height=round(size, 1),
                label_x=round(index * column + column / 2, 1),
                label_y=height - bottom + 16,
                value_x=round(index * column + column / 2, 1),
                value_y=round(height - bottom - size - 6, 1),
            )
        )
    return chart


def bar_chart(
    items: list[tuple[str, float | None]],
    *,
    width: int = 640,
    label_width: int = 220,
    row: int = 26,
) -> BarChart:
    """Horizontal bars for (label, value) pairs; None counts as 0."""
    room_for_value = 70
    plot = width - label_width - room_for_value
    largest = max((value or 0 for _, value in items), default=0) or 1
    chart = BarChart(width=width, height=max(row * len(items), row), label_width=label_width)
    for index, (label, value) in enumerate(items):
        size = plot * (value or 0) / largest
        y = index * row
        chart.bars.append(
            Bar(
                label=label,
                value=value or 0,
                x=label_width,
                y=y + 4,
                width=round(size, 1),
                height=row - 8,
                label_x=label_width - 8,
                label_y=y + row / 2 + 5,
                value_x=round(label_width + size + 6, 1),
                value_y=y + row / 2 + 5,
            )
        )
    return chart


def line_chart(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    width: int = 640,
    height: int = 200,
) -> LineChart:
    """One polyline per series over the same labels; None counts as 0."""
    left, right, top, bottom = 16.0, 16.0, 16.0, 28.0
    plot_w = width - left - right
    plot_h = height - top - bottom
    largest = max((v or 0 for _, values in series for v in values), default=0) or 1
    step = plot_w / max(len(labels) - 1, 1)
    chart = LineChart(
        width=width,
        height=height,
        baseline=height - bottom,
        labels=[(round(left + i * step, 1), text) for i, text in enumerate(labels)],
        top_value=largest,
    )
    for name, values in series:
        dots = [
            (
                round(left + i * step, 1),
                round(top + plot_h - plot_h * (value or 0) / largest, 1),
                value or 0,
            )
            for i, value in enumerate(values)
        ]
        chart.series.append(
            Series(name=name, points=" ".join(f"{x},{y}" for x, y, _ in dots), dots=dots)
        )
    return chart
