"""Monitoring's rules: who may read or recompute a deployment's metric windows, over which range."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.core.ids import utcnow
from kiln.core.permissions import Permission
from kiln.monitoring.models import MetricWindow
from kiln.monitoring.schemas import (
    MetricPoint,
    MetricQuery,
    MetricSeries,
    MetricSeriesList,
    WindowsCompute,
    WindowsComputed,
)
from kiln.monitoring.windows import WINDOW_SIZES, check_window, compute_window, window_start
from kiln.serving.deployments import get_deployment

# Points a series answers at most; windows one request recomputes at most.
MAX_POINTS = 2_000
MAX_COMPUTE = 1_500


def _range(
    start: datetime | None, end: datetime | None, seconds: int, limit: int
) -> tuple[datetime, datetime]:
    end = end or utcnow()
    start = start or end - timedelta(days=1)
    if (end - start).total_seconds() / seconds > limit:
        raise Invalid(
            f"that range holds more than {limit} windows of {seconds} s; narrow it or use a wider window"
        )
    return start, end


def metric_series(session: Session, actor: Actor, query: MetricQuery) -> MetricSeriesList:
    """Each named deployment's series of ``query.metric``; NotFound for one the actor may not read."""
    seconds = WINDOW_SIZES[query.window.value]
    start, end = _range(query.start, query.end, seconds, MAX_POINTS)
    series = []
    for name in dict.fromkeys(query.deployment):
        deployment = get_deployment(session, actor, name, Permission.monitors_read)
        rows = session.scalars(
            select(MetricWindow)
            .where(
                MetricWindow.project_id == deployment.project_id,
                MetricWindow.deployment == deployment.name,
                MetricWindow.metric == query.metric.value,
                MetricWindow.window_seconds == seconds,
                MetricWindow.start >= window_start(start, seconds),
                MetricWindow.start < end,
                MetricWindow.model_version_number == query.version
                if query.version is not None
                else MetricWindow.model_version_id.is_(None),
            )
            .order_by(MetricWindow.start)
        )
        points = [MetricPoint.model_validate(row) for row in rows]
        series.append(
            MetricSeries(deployment=deployment.name, metric=query.metric, window=query.window, points=points)
        )
    return MetricSeriesList(start=start, end=end, series=series)


def recompute_windows(session: Session, actor: Actor, data: WindowsCompute) -> WindowsComputed:
    """Recompute every window of ``data.window`` that overlaps the range (idempotent)."""
    deployment = get_deployment(session, actor, data.deployment, Permission.monitors_write)
    seconds = WINDOW_SIZES[data.window.value]
    start, end = _range(data.start, data.end, seconds, MAX_COMPUTE)
    moment, windows, rows = window_start(start, seconds), 0, 0
    while moment < end:
        rows += len(
            compute_window(
                session,
                project_id=deployment.project_id,
                deployment=deployment.name,
                seconds=seconds,
                start=moment,
            )
        )
        windows += 1
        moment += timedelta(seconds=seconds)
    return WindowsComputed(deployment=deployment.name, window=data.window, windows=windows, rows=rows)


def deployment_windows(
    session: Session,
    actor: Actor,
    name: str,
    *,
    seconds: int,
    start: datetime,
    end: datetime,
    metrics: list[str] | None = None,
    version: int | None = None,
) -> dict[str, list[MetricPoint]]:
    """Every metric's windows of one deployment in a range (one query): what a dashboard charts.

    ``{metric: points, oldest first}``; ``version`` for one model version's windows, else the
    deployment as a whole. NotFound for a deployment the actor may not read.
    """
    deployment = get_deployment(session, actor, name, Permission.monitors_read)
    check_window(window_start(start, seconds), seconds)
    if (end - start).total_seconds() / seconds > MAX_POINTS:
        raise Invalid(f"that range holds more than {MAX_POINTS} windows of {seconds} s; narrow it")
    statement = select(MetricWindow).where(
        MetricWindow.project_id == deployment.project_id,
        MetricWindow.deployment == deployment.name,
        MetricWindow.window_seconds == seconds,
        MetricWindow.start >= window_start(start, seconds),
        MetricWindow.start < end,
        MetricWindow.model_version_number == version
        if version is not None
        else MetricWindow.model_version_id.is_(None),
    )
    if metrics is not None:
        statement = statement.where(MetricWindow.metric.in_(metrics))
    found: dict[str, list[MetricPoint]] = {}
    for row in session.scalars(statement.order_by(MetricWindow.start)):
        found.setdefault(row.metric, []).append(MetricPoint.model_validate(row))
    return found
