"""A deployment's metric windows as the charts ``kiln.js`` draws, and each chart's data as CSV.

One table per chart (a row per window, a column per series) is the single source of both: the
chart payload (``{key, element, x_title, series: [{name, x, y, lo, hi}]}``, UTC times on x, which
Plotly reads as a date axis) and the CSV, so the download always holds what the chart shows.
The quality chart draws a training metric as a flat line beside the live one where the model
version recorded it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiln.monitoring.schemas import MetricPoint
from kiln.ui.charts import finite

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class ChartSpec:
    slug: str
    title: str
    # (metric, label): the series the chart may hold, in legend order.
    metrics: tuple[tuple[str, str], ...]
    # Quality metrics appear only once ground truth arrived; traffic series are always drawn.
    only_present: bool = False


QUALITY = ("accuracy", "precision", "recall", "f1", "auc", "mae", "rmse", "r2")
CHARTS = (
    ChartSpec(
        "volume",
        "Requests per window",
        (("requests", "requests"), ("errors", "failed (5xx)"), ("invalid", "refused (4xx)")),
    ),
    ChartSpec(
        "latency", "Latency (ms)", (("latency_p50", "p50"), ("latency_p95", "p95"), ("latency_p99", "p99"))
    ),
    ChartSpec("errors", "Error rate", (("error_rate", "error rate"),)),
    ChartSpec(
        "quality",
        "Model quality from ground truth",
        tuple((name, name) for name in QUALITY),
        only_present=True,
    ),
)
BY_SLUG = {chart.slug: chart for chart in CHARTS}
# Every metric a chart reads (one query loads them all).
CHARTED = sorted({metric for chart in CHARTS for metric, _ in chart.metrics})


@dataclass(slots=True)
class Column:
    name: str
    values: list[float | None]


@dataclass(slots=True)
class ChartTable:
    """One chart's data: the windows (rows) and a column per series."""

    spec: ChartSpec
    starts: list[datetime] = field(default_factory=list)
    ends: list[datetime] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)

    @property
    def element(self) -> str:
        return f"chart-{self.spec.slug}"

    def payload(self) -> dict[str, Any]:
        x = [start.strftime(TIME_FORMAT) for start in self.starts]
        series = [
            {"name": column.name, "x": x, "y": [finite(v) for v in column.values], "lo": None, "hi": None}
            for column in self.columns
        ]
        return {
            "key": self.spec.title,
            "element": self.element,
            "x_title": "window start (UTC)",
            "series": series,
        }


def chart_table(
    spec: ChartSpec, windows: dict[str, list[MetricPoint]], training: dict[str, float] | None = None
) -> ChartTable:
    """The windows of ``spec``'s metrics aligned on their start times; ``training`` adds flat lines."""
    chosen = [
        (metric, label)
        for metric, label in spec.metrics
        if not spec.only_present or any(point.value is not None for point in windows.get(metric, []))
    ]
    by_start: dict[datetime, datetime] = {}
    for metric, _ in chosen:
        for point in windows.get(metric, []):
            by_start[point.start] = point.end
    starts = sorted(by_start)
    table = ChartTable(spec, starts, [by_start[start] for start in starts])
    for metric, label in chosen:
        values = {point.start: point.value for point in windows.get(metric, [])}
        table.columns.append(Column(label, [values.get(start) for start in starts]))
    for metric, label in chosen:
        if training and metric in training:
            table.columns.append(Column(f"{label} at training", [training[metric]] * len(starts)))
    return table


def chart_tables(
    windows: dict[str, list[MetricPoint]], training: dict[str, float] | None = None
) -> list[ChartTable]:
    """The charts that have something to draw, in page order."""
    tables = [chart_table(spec, windows, training if spec.slug == "quality" else None) for spec in CHARTS]
    return [table for table in tables if table.starts and table.columns]


def table_csv(table: ChartTable) -> str:
    """The chart's data: one row per window, a column per series (empty where undefined)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["window_start", "window_end", *[column.name for column in table.columns]])
    for index, (start, end) in enumerate(zip(table.starts, table.ends, strict=True)):
        cells = [column.values[index] for column in table.columns]
        writer.writerow(
            [start.isoformat(), end.isoformat(), *["" if cell is None else f"{cell:.10g}" for cell in cells]]
        )
    return out.getvalue()


# -- numbers as pages show them -------------------------------------------------------------------

COUNTS = frozenset({"requests", "errors", "invalid", "feedback_rows"})
LATENCIES = frozenset({"latency_p50", "latency_p95", "latency_p99"})
SHARES = frozenset({"error_rate", "drift_share"})


def shown(metric: str, value: float | None) -> str:
    """A metric's value as text: counts whole, latency in ms, rates in percent, scores to 3 places."""
    if value is None:
        return "—"
    if metric in COUNTS:
        return f"{value:,.0f}"
    if metric in LATENCIES:
        return f"{value:.1f} ms"
    if metric in SHARES:
        return f"{value * 100:.2f}%"
    return f"{value:.3f}"
