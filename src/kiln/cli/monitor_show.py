"""``kiln monitor show``: a deployment's windowed metrics (traffic, latency, errors, quality), via the SDK."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, format_time, new_table
from kiln.core.ids import utcnow
from kiln.monitoring.schemas import MetricPoint

# The columns, in order: traffic first, then what ground truth tells once it has arrived.
SHOWN = ("requests", "error_rate", "latency_p50", "latency_p95", "latency_p99", "accuracy")
_WINDOW_SECONDS = {"1m": 60, "1h": 3_600, "1d": 86_400}


def show(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="Deployment name.")],
    window: Annotated[str, typer.Option("--window", "-w", help="1m, 1h or 1d windows.")] = "1h",
    last: Annotated[
        int, typer.Option("--last", "-n", min=1, max=500, help="Windows shown, newest last.")
    ] = 24,
) -> None:
    """The deployment's last windows: requests, error rate, latency p50/p95/p99 (ms), accuracy."""
    if window not in _WINDOW_SECONDS:
        raise typer.BadParameter(
            f"expected one of {', '.join(_WINDOW_SECONDS)}, got {window!r}", param_hint="--window"
        )
    since = utcnow() - timedelta(seconds=_WINDOW_SECONDS[window] * last)
    columns: dict[str, dict[str, MetricPoint]] = {}
    with remote.client(ctx) as client:
        for metric in SHOWN:
            [series] = client.monitoring.metrics(deployment, metric, window=window, from_=since).series
            columns[metric] = {point.start.isoformat(): point for point in series.points}
    starts = sorted({start for points in columns.values() for start in points})[-last:]
    if not starts:
        console.print(
            f"No {window} windows of {escape(deployment)} yet: they are computed from its prediction log "
            "every minute."
        )
        return
    table = new_table("Window", "Requests", "Errors", "p50 ms", "p95 ms", "p99 ms", "Accuracy")
    for start in starts:
        cells = [_cell(metric, columns[metric].get(start)) for metric in SHOWN]
        first = next(point for points in columns.values() if (point := points.get(start)) is not None)
        table.add_row(format_time(first.start), *cells)
    console.print(table)


def _cell(metric: str, point: MetricPoint | None) -> str:
    if point is None or point.value is None:
        return "—"
    if metric == "requests":
        return f"{point.value:,.0f}"
    if metric == "error_rate":
        return f"{point.value:.1%}"
    if metric == "accuracy":
        return f"{point.value:.3f} ({point.samples} rows)"
    return f"{point.value:.1f}"
