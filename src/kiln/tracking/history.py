"""Metric histories for charts, downsampled in SQL so a chart never ships a million points.

Long histories are cut into at most ``max_points`` buckets; each bucket reports the min, the max
and the last value (the point at its highest step), which keeps spikes visible after reduction.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid, NotFound
from kiln.core.permissions import Permission
from kiln.tracking.access import require_run_access
from kiln.tracking.models import Metric
from kiln.tracking.schemas import MetricHistory, MetricPoint

MAX_POINTS_LIMIT = 10_000


def _value(raw: float | None) -> float:
    return float("nan") if raw is None else raw


def metric_history(
    session: Session, actor: Actor, run_id: str, key: str, *, max_points: int = 1000
) -> MetricHistory:
    if not 2 <= max_points <= MAX_POINTS_LIMIT:
        raise Invalid(f"max_points must be between 2 and {MAX_POINTS_LIMIT}")
    require_run_access(session, actor, run_id, Permission.runs_read)
    where = (Metric.run_id == run_id, Metric.key == key)
    total, lo, hi = session.execute(
        select(func.count(), func.min(Metric.step), func.max(Metric.step)).where(*where)
    ).one()
    if total == 0:
        raise NotFound(f"run {run_id!r} has no metric {key!r}")
    if total <= max_points:
        rows = session.execute(
            select(Metric.step, Metric.value, Metric.timestamp_ms)
            .where(*where)
            .order_by(Metric.step, Metric.timestamp_ms, Metric.id)
        )
        points = [MetricPoint(step=s, value=_value(v), timestamp=t) for s, v, t in rows]
        return MetricHistory(run_id=run_id, key=key, total_points=total, downsampled=False, points=points)
    points = _bucketed(session, run_id, key, lo, hi, total, max_points)
    return MetricHistory(run_id=run_id, key=key, total_points=total, downsampled=True, points=points)


def _bucketed(
    session: Session, run_id: str, key: str, lo: int, hi: int, total: int, max_points: int
) -> list[MetricPoint]:
    where = (Metric.run_id == run_id, Metric.key == key)
    if hi - lo + 1 >= max_points:
        return _bucketed_by_step(session, run_id, key, lo, -(-(hi - lo + 1) // max_points))
    # Steps do not spread the points out (e.g. all logged at step 0): bucket by arrival order.
    order = func.row_number().over(order_by=(Metric.step, Metric.timestamp_ms, Metric.id)) - 1
    bucket = (order * max_points // total).label("bucket")
    source = select(Metric.step, Metric.value, Metric.timestamp_ms, bucket).where(*where).subquery()
    ranked = select(
        source.c.bucket,
        source.c.step,
        source.c.value,
        source.c.timestamp_ms,
        func.min(source.c.value).over(partition_by=source.c.bucket).label("vmin"),
        func.max(source.c.value).over(partition_by=source.c.bucket).label("vmax"),
        func.count().over(partition_by=source.c.bucket).label("n"),
        func.row_number()
        .over(partition_by=source.c.bucket, order_by=(source.c.step.desc(), source.c.timestamp_ms.desc()))
        .label("rn"),
    ).subquery()
    rows = session.execute(
        select(ranked.c.step, ranked.c.value, ranked.c.timestamp_ms, ranked.c.vmin, ranked.c.vmax, ranked.c.n)
        .where(ranked.c.rn == 1)
        .order_by(ranked.c.bucket)
    )
    return [
        MetricPoint(step=s, value=_value(v), timestamp=t, min=_value(mn), max=_value(mx), count=n)
        for s, v, t, mn, mx, n in rows
    ]


def _bucketed_by_step(session: Session, run_id: str, key: str, lo: int, width: int) -> list[MetricPoint]:
    """Buckets of ``width`` steps: one GROUP BY over the covering index, then the last point of each
    bucket fetched by its step — far cheaper than window functions over the whole history."""
    where = (Metric.run_id == run_id, Metric.key == key)
    bucket = ((Metric.step - lo) // width).label("bucket")
    groups = session.execute(
        select(func.min(Metric.value), func.max(Metric.value), func.count(), func.max(Metric.step))
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    last_steps = [int(group[3]) for group in groups]
    last: dict[int, tuple[float | None, int]] = {}
    for step, value, timestamp in session.execute(
        select(Metric.step, Metric.value, Metric.timestamp_ms)
        .where(*where, Metric.step.in_(last_steps))
        .order_by(Metric.step, Metric.timestamp_ms, Metric.id)
    ).all():
        last[int(step)] = (value, int(timestamp))  # the latest write at a step wins
    return [
        MetricPoint(
            step=step,
            value=_value(last[step][0]),
            timestamp=last[step][1],
            min=_value(vmin),
            max=_value(vmax),
            count=int(count),
        )
        for (vmin, vmax, count, _), step in zip(groups, last_steps, strict=True)
    ]
