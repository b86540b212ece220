"""Server-rendered SVG charts of the metrics page: geometry computed here, drawn by the
template (no chart library, no script). Every bar links to the tickets behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format, number_format

# About the width a chart gets on a desktop, so its 12 px labels are drawn near 12 px; on a
# phone they shrink by a fifth, not by half.
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 420, 180, 38, 22, 8
LABEL_GAP = 10  # the least room between two labels
MAX_WEEK_LABELS = 6  # more would run into each other under the bars (CJK dates are wide)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str  # what a screen reader and the tooltip say
    week: date
    measure: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    lines: dict[str, list[Point]]
    ticks: list[tuple[float, str]]  # (y, label) of the value axis
    weeks: list[tuple[float, str, str]]  # (x, label, text-anchor) under the bars
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_bottom: float = HEIGHT - BOTTOM


def nice_top(value: int) -> int:
    """The value axis's top: a round number at or above `value` whose half is whole too."""
    if value <= 10:
        return max(2, value + value % 2)
    magnitude = 10 ** (len(str(value)) - 2)  # steps of the two leading digits
    for lead in (10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100):
        if value <= lead * magnitude:
            return lead * magnitude
    return value  # pragma: no cover - 100 × magnitude is always above


def _slot(i: int, count: int) -> tuple[float, float]:
    step = (WIDTH - LEFT - 4) / max(count, 1)
    return LEFT + i * step, step


def _y(value: float, top: float) -> float:
    usable = HEIGHT - BOTTOM - TOP
    return HEIGHT - BOTTOM - (value / top) * usable if top else HEIGHT - BOTTOM


def _label_width(label: str) -> float:
    """About how wide a 12 px label is drawn: CJK characters are about twice a Latin one."""
    return sum(12 if ord(c) >= 0x2E80 else 7 for c in label)


def _week_labels(weeks: list[date]) -> list[tuple[float, str, str]]:
    every = max(1, -(-len(weeks) // MAX_WEEK_LABELS))
    labels = []
    for i, week in enumerate(weeks):
        if (len(weeks) - 1 - i) % every == 0:  # counted back from this week, always labelled
            x, step = _slot(i, len(weeks))
            labels.append((x + step / 2, date_format(week, "MONTH_DAY_FORMAT"), "middle"))
    if labels:
        # The current week's label ends at the drawing's edge, however long it is; an earlier
        # one it would run into is left out.
        _x, last, _anchor = labels.pop()
        left = WIDTH - _label_width(last) - LABEL_GAP
        labels = [(x, t, a) for x, t, a in labels if x + _label_width(t) / 2 < left]
        labels.append((WIDTH, last, "end"))
    return labels


def stacked_bars(
    weeks: list[date],
    series: list[tuple[str, str, str, list[int]]],
    *,
    label: str,
) -> Chart:
    """Bars per week stacked from `series` [(measure, css class, name, values)]; `label`
    formats one part's description (its link's name and tooltip) with {value}, {name} and
    {week}."""
    totals = [sum(values[i] for *_, values in series) for i in range(len(weeks))]
    top = nice_top(max(totals + [1]))
    bars = []
    for i, week in enumerate(weeks):
        x, step = _slot(i, len(weeks))
        base = 0
        for measure, css, name, values in series:
            value = values[i]
            if value:
                y0, y1 = _y(base, top), _y(base + value, top)
                bars.append(
                    Bar(x + step * 0.15, y1, step * 0.7, y0 - y1, css,
                        label.format(value=value, name=name, week=week.isoformat()),
                        week, measure)
                )  # fmt: skip
            base += value
    ticks = [
        (_y(v, top), number_format(v, force_grouping=True)) for v in sorted({0, top // 2, top})
    ]
    return Chart(bars=bars, lines={}, ticks=ticks, weeks=_week_labels(weeks))


def share_lines(weeks: list[date], series: dict[str, list[float | None]]) -> Chart:
    """Lines of shares (0–1) per week, one per series; weeks without a value are skipped."""
    lines = {}
    for name, values in series.items():
        points = []
        for i, value in enumerate(values):
            if value is not None:
                x, step = _slot(i, len(weeks))
                points.append(Point(x + step / 2, _y(value, 1.0), f"{value:.0%}"))
        lines[name] = points
    ticks = [(_y(v, 1.0), f"{v:.0%}") for v in (0.0, 0.5, 1.0)]
    return Chart(bars=[], lines=lines, ticks=ticks, weeks=_week_labels(weeks))


def polyline(points: list[Point]) -> str:
    return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)
