"""A line chart's geometry for a server-rendered inline SVG (`templates/chart.html`): one
point per value, placed by time, on a fixed 0-100 scale. Pure: the template draws it with
presentation attributes only (the Content-Security-Policy allows no style attribute)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH = 640
HEIGHT = 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 36, 12, 10, 24


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartPoint:
    x: float
    y: float
    value: int
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LineChart:
    title: str
    width: int
    height: int
    points: tuple[ChartPoint, ...]
    ticks: tuple[Tick, ...]
    left: int
    right: int  # x of the plot's right edge
    bottom: float  # y of the plot's baseline

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def first(self) -> ChartPoint | None:
        return self.points[0] if self.points else None

    @property
    def last(self) -> ChartPoint | None:
        return self.points[-1] if self.points else None


def line_chart(title: str, values: Sequence[tuple[datetime, int]], *, top: int = 100,
               width: int = WIDTH, height: int = HEIGHT) -> LineChart:
    """`values` (time, 0..top), oldest first. Points are spaced by time; when every value
    has the same time they are spaced evenly."""
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM
    start = values[0][0] if values else None
    span = (values[-1][0] - values[0][0]).total_seconds() if values else 0.0

    def x_of(index: int, at: datetime) -> float:
        if span > 0 and start is not None:
            return _LEFT + plot_w * (at - start).total_seconds() / span
        return _LEFT + (plot_w * index / (len(values) - 1) if len(values) > 1 else plot_w / 2)

    def y_of(value: float) -> float:
        clamped = min(max(value, 0), top)
        return _TOP + plot_h * (1 - clamped / top)

    points = tuple(ChartPoint(x=x_of(i, at), y=y_of(value), value=value, at=at)
                   for i, (at, value) in enumerate(values))
    ticks = tuple(Tick(y=y_of(v), label=str(v)) for v in (0, top // 2, top))
    return LineChart(title=title, width=width, height=height, points=points, ticks=ticks,
                     left=_LEFT, right=width - _RIGHT, bottom=_TOP + plot_h)
