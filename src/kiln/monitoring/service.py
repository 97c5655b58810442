"""Monitoring's rules: who may read or recompute a deployment's metric windows, over which range."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, tuple_
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
from kiln.serving.deployment_models import Deployment
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


def _in_range(seconds: int, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """The conditions on windows of ``seconds`` that start in the range (at most MAX_POINTS of them)."""
    check_window(window_start(start, seconds), seconds)
    if (end - start).total_seconds() / seconds > MAX_POINTS:
        raise Invalid(f"that range holds more than {MAX_POINTS} windows of {seconds} s; narrow it")
    return [
        MetricWindow.window_seconds == seconds,
        MetricWindow.start >= window_start(start, seconds),
        MetricWindow.start < end,
    ]


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
    statement = select(MetricWindow).where(
        MetricWindow.project_id == deployment.project_id,
        MetricWindow.deployment == deployment.name,
        *_in_range(seconds, start, end),
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


def windows_by_deployment(
    session: Session,
    deployments: Sequence[Deployment],
    *,
    seconds: int,
    start: datetime,
    end: datetime,
    metrics: list[str],
) -> dict[str, dict[str, list[MetricPoint]]]:
    """Several deployments' windows of ``metrics`` in a range, in one query: what a comparison charts.

    ``{deployment: {metric: points, oldest first}}`` for the deployments as a whole. The caller
    passes deployments it read through ``serving.deployments``, which scoped them to its projects.
    """
    in_range = _in_range(seconds, start, end)
    found: dict[str, dict[str, list[MetricPoint]]] = {deployment.name: {} for deployment in deployments}
    if not deployments:
        return found
    keys = [(deployment.project_id, deployment.name) for deployment in deployments]
    statement = select(MetricWindow).where(
        tuple_(MetricWindow.project_id, MetricWindow.deployment).in_(keys),
        *in_range,
        MetricWindow.model_version_id.is_(None),
        MetricWindow.metric.in_(metrics),
    )
    for row in session.scalars(statement.order_by(MetricWindow.start)):
        found[row.deployment].setdefault(row.metric, []).append(MetricPoint.model_validate(row))
    return found


def version_windows(
    session: Session,
    actor: Actor,
    name: str,
    *,
    seconds: int,
    start: datetime,
    end: datetime,
    metrics: list[str],
) -> dict[int, dict[str, list[MetricPoint]]]:
    """Each model version's windows of one deployment in a range, in one query.

    ``{version number: {metric: points, oldest first}}``; NotFound for a deployment the actor may
    not read.
    """
    deployment = get_deployment(session, actor, name, Permission.monitors_read)
    statement = select(MetricWindow).where(
        MetricWindow.project_id == deployment.project_id,
        MetricWindow.deployment == deployment.name,
        *_in_range(seconds, start, end),
        MetricWindow.model_version_number.is_not(None),
        MetricWindow.metric.in_(metrics),
    )
    found: dict[int, dict[str, list[MetricPoint]]] = {}
    for row in session.scalars(statement.order_by(MetricWindow.start)):
        number = row.model_version_number or 0  # never 0: the query keeps versioned rows only
        found.setdefault(number, {}).setdefault(row.metric, []).append(MetricPoint.model_validate(row))
    return found


def served_versions(session: Session, actor: Actor, name: str) -> list[int]:
    """The model versions that ever served the deployment (have a window), oldest first."""
    deployment = get_deployment(session, actor, name, Permission.monitors_read)
    numbers = session.scalars(
        select(MetricWindow.model_version_number)
        .where(
            MetricWindow.project_id == deployment.project_id,
            MetricWindow.deployment == deployment.name,
            MetricWindow.model_version_number.is_not(None),
        )
        .distinct()
    )
    return sorted(number for number in numbers if number is not None)
