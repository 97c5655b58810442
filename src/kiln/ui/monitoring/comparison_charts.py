"""The overview's comparison charts: one metric per chart, one series per active deployment.

Built on the deployment page's ``ChartTable`` (a row per window, a column per series), so each
chart's payload and its CSV come from the same table. The windows of every deployment are read
in one query; a deployment with no window of a metric in the range draws no series for it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from kiln.monitoring import service
from kiln.monitoring.schemas import MetricPoint
from kiln.serving.deployment_models import Deployment
from kiln.ui.monitoring.metric_view import ChartSpec, ChartTable, Column
from kiln.ui.monitoring.windows import WindowChoice


class CompareSlug(StrEnum):
    requests = "requests"
    latency_p99 = "latency-p99"
    error_rate = "error-rate"
    accuracy = "accuracy"


# slug → (metric, chart title), in page order.
COMPARED = {
    CompareSlug.requests: ("requests", "Requests per window"),
    CompareSlug.latency_p99: ("latency_p99", "Latency p99 (ms)"),
    CompareSlug.error_rate: ("error_rate", "Error rate"),
    CompareSlug.accuracy: ("accuracy", "Accuracy from ground truth"),
}


def compare_table(
    slug: CompareSlug, names: list[str], windows: dict[str, dict[str, list[MetricPoint]]]
) -> ChartTable:
    """``slug``'s metric of each deployment in ``names``, aligned on the windows' start times."""
    metric, title = COMPARED[slug]
    spec = ChartSpec(f"compare-{slug.value}", title, ((metric, metric),))
    drawn = [name for name in names if windows.get(name, {}).get(metric)]
    by_start: dict[datetime, datetime] = {}
    for name in drawn:
        for point in windows[name][metric]:
            by_start[point.start] = point.end
    starts = sorted(by_start)
    table = ChartTable(spec, starts, [by_start[start] for start in starts])
    for name in drawn:
        values = {point.start: point.value for point in windows[name][metric]}
        table.columns.append(Column(name, [values.get(start) for start in starts]))
    return table


def compare_tables(
    session: Session, active: list[Deployment], window: WindowChoice, now: datetime
) -> dict[CompareSlug, ChartTable]:
    """Every comparison chart's table (empty ones too: their CSV is the header alone)."""
    windows = service.windows_by_deployment(
        session,
        active,
        seconds=window.seconds,
        start=now - window.span,
        end=now,
        metrics=[metric for metric, _ in COMPARED.values()],
    )
    names = sorted(deployment.name for deployment in active)
    return {slug: compare_table(slug, names, windows) for slug in COMPARED}
