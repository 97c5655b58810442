"""Chart payloads built from metric histories, embedded in pages as JSON for ``kiln.js`` to draw.

NaN and infinities cannot be drawn and are not valid JSON: they become ``null``, which Plotly
draws as a gap, and the count of such points is reported under the chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kiln.tracking.schemas import MetricHistory


def finite(value: float | None) -> float | None:
    """The value to draw: None for a gap; 7 significant digits, as far as a chart or its hover can tell."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return float(f"{value:.7g}")


@dataclass(slots=True)
class Series:
    name: str
    x: list[int]
    y: list[float | None]
    # The bucket's min and max when the history was downsampled, else None.
    lo: list[float | None] | None
    hi: list[float | None] | None
    gaps: int
    total_points: int
    downsampled: bool
    run_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run_id": self.run_id,
            "x": self.x,
            "y": self.y,
            "lo": self.lo,
            "hi": self.hi,
            "gaps": self.gaps,
            "total_points": self.total_points,
            "downsampled": self.downsampled,
        }


@dataclass(slots=True)
class Chart:
    key: str
    element_id: str
    series: list[Series] = field(default_factory=list)

    @property
    def downsampled(self) -> bool:
        return any(s.downsampled for s in self.series)

    @property
    def gaps(self) -> int:
        return sum(s.gaps for s in self.series)

    @property
    def total_points(self) -> int:
        return sum(s.total_points for s in self.series)

    @property
    def single_point(self) -> Series | None:
        """The one series of a metric logged once: shown as a number, since one point draws no line."""
        if len(self.series) == 1 and self.series[0].total_points == 1 and len(self.series[0].y) == 1:
            return self.series[0]
        return None

    @property
    def x_title(self) -> str:
        return "point" if any(_steps_collapse(s.x) for s in self.series) else "step"

    def to_json(self) -> dict[str, Any]:
        series = []
        for s in self.series:
            payload = s.to_json()
            if _steps_collapse(s.x):
                # Every point was logged at one step: spread them out by arrival order instead.
                payload["x"] = list(range(len(s.x)))
            series.append(payload)
        return {"key": self.key, "element": self.element_id, "x_title": self.x_title, "series": series}


def _steps_collapse(steps: list[int]) -> bool:
    return len(steps) > 1 and min(steps) == max(steps)


def series_from_history(history: MetricHistory, *, name: str, band: bool = True) -> Series:
    points = history.points
    y = [finite(p.value) for p in points]
    gaps = sum(1 for value in y if value is None)
    lo = hi = None
    if band and history.downsampled:
        lo = [finite(p.min if p.min is not None else p.value) for p in points]
        hi = [finite(p.max if p.max is not None else p.value) for p in points]
    return Series(
        name=name,
        run_id=history.run_id,
        x=[p.step for p in points],
        y=y,
        lo=lo,
        hi=hi,
        gaps=gaps,
        total_points=history.total_points,
        downsampled=history.downsampled,
    )


def charts_json(charts: list[Chart]) -> list[dict[str, Any]]:
    """What the browser draws: single values are shown as numbers in the page, not drawn."""
    return [chart.to_json() for chart in charts if chart.single_point is None]
