"""The deployment page's traffic section: the time windows it offers and the charts ``kiln.js`` draws.

The numbers come from ``kiln.serving.traffic`` (aggregated in the database); this module only picks
the window and puts the series in the chart payload the run pages use (``{key, element, x_title,
series: [{name, x, y, lo, hi}]}``), with UTC times on x, which Plotly reads as a date axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiln.serving.traffic import Traffic
from kiln.ui.charts import finite


@dataclass(frozen=True, slots=True)
class TrafficWindow:
    key: str
    label: str
    seconds: int
    bucket_seconds: int


WINDOWS = (
    TrafficWindow("1h", "last hour", 3600, 60),
    TrafficWindow("6h", "last 6 hours", 6 * 3600, 5 * 60),
    TrafficWindow("24h", "last 24 hours", 24 * 3600, 15 * 60),
    TrafficWindow("7d", "last 7 days", 7 * 24 * 3600, 3 * 3600),
)
BY_KEY = {window.key: window for window in WINDOWS}


def traffic_window(key: str) -> TrafficWindow:
    """The window ``?window=`` names; an unknown one reads as the last hour."""
    return BY_KEY.get(key, WINDOWS[0])


def _series(name: str, x: list[str], y: list[float | None]) -> dict[str, Any]:
    return {"name": name, "x": x, "y": y, "lo": None, "hi": None}


def _chart(key: str, element: str, series: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "element": element, "x_title": "time (UTC)", "series": series}


def traffic_charts(traffic: Traffic) -> list[dict[str, Any]]:
    """Request rate, latency percentiles and errors per bucket, for ``kiln.js``."""
    x = [bucket.start.strftime("%Y-%m-%d %H:%M:%S") for bucket in traffic.buckets]
    per_minute = 60 / traffic.bucket_seconds
    buckets = traffic.buckets
    return [
        _chart(
            "Requests per minute",
            "chart-rate",
            [_series("requests/min", x, [finite(b.requests * per_minute) for b in buckets])],
        ),
        _chart(
            "Latency (ms)",
            "chart-latency",
            [
                _series("p50", x, [finite(b.latency.p50) for b in buckets]),
                _series("p95", x, [finite(b.latency.p95) for b in buckets]),
                _series("p99", x, [finite(b.latency.p99) for b in buckets]),
            ],
        ),
        _chart(
            "Errors",
            "chart-errors",
            [
                _series("failed (5xx)", x, [float(b.errors) for b in buckets]),
                _series("refused (4xx)", x, [float(b.invalid) for b in buckets]),
            ],
        ),
    ]
