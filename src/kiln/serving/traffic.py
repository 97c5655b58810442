"""A deployment's traffic from the prediction log: requests, refusals, errors and latency per time bucket.

Aggregated in the database, never by loading the log: one GROUP BY for the counts per bucket and
status, and one window-function query for the latency percentiles per bucket (nearest rank: the
smallest latency whose rank reaches p·n). Window functions run on SQLite and PostgreSQL alike, so
both answer the same numbers. The filter (deployment, created_at) is the log's own index.

Latency is over ``ok`` predictions only: a refused request returns in microseconds and would make
the model look faster than it is. The window ends at the next bucket boundary after ``now``, so a
page opened a minute later shows the same buckets shifted by whole steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.core.ids import utcnow
from kiln.serving.deployment_schemas import DeploymentRead
from kiln.serving.deployments import get_deployment
from kiln.serving.models import Prediction
from kiln.serving.schemas import PredictionStatus

# A chart wider than this many buckets says nothing more; a request for more is refused.
MAX_BUCKETS = 1000


@dataclass(frozen=True, slots=True)
class Latency:
    """Milliseconds; ``None`` where no prediction succeeded."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True, slots=True)
class TrafficBucket:
    start: datetime
    requests: int = 0  # every request, refused and failed ones included
    invalid: int = 0  # refused before the model saw it (4xx)
    errors: int = 0  # the model or the server failed (5xx)
    latency: Latency = Latency()


@dataclass(frozen=True, slots=True)
class Traffic:
    start: datetime
    end: datetime
    bucket_seconds: int
    buckets: list[TrafficBucket]  # every bucket of the window, the empty ones included
    latency: Latency  # over the whole window

    @property
    def requests(self) -> int:
        return sum(bucket.requests for bucket in self.buckets)

    @property
    def invalid(self) -> int:
        return sum(bucket.invalid for bucket in self.buckets)

    @property
    def errors(self) -> int:
        return sum(bucket.errors for bucket in self.buckets)


def _bucket(session: Session, start: datetime, width: int) -> ColumnElement[int]:
    """The index of the ``width``-second bucket after ``start`` that a prediction falls in."""
    offset = int(start.timestamp())
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", Prediction.created_at) - offset
        return cast(func.floor(seconds / width), Integer)  # a bare CAST would round, not floor
    # SQLite keeps the UTC time as text; strftime('%s') reads it as whole seconds since the epoch,
    # and ``//`` of integers is integer division there (never negative: created_at >= start).
    return (cast(func.strftime("%s", Prediction.created_at), Integer) - offset) // width


def _of_deployment(name: str, project_id: str, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [
        Prediction.deployment == name,
        Prediction.project_id == project_id,
        Prediction.created_at >= start,
        Prediction.created_at < end,
    ]


def latency_percentiles(
    session: Session, where: list[ColumnElement[bool]], key: ColumnElement[Any] | QueryableAttribute[Any]
) -> dict[Any, Latency]:
    """p50, p95 and p99 of the ``ok`` predictions per value of ``key``, in one pass of window functions."""
    group = key.label("key")
    ranked = (
        select(
            group,
            Prediction.latency_ms.label("latency"),
            func.row_number().over(partition_by=group, order_by=Prediction.latency_ms).label("rank"),
            func.count().over(partition_by=group).label("n"),
        )
        .where(*where, Prediction.status == PredictionStatus.ok.value)
        .subquery()
    )

    def nearest_rank(p: float) -> ColumnElement[Any]:
        return func.min(case((ranked.c.rank >= p * ranked.c.n, ranked.c.latency)))

    rows = session.execute(
        select(ranked.c.key, nearest_rank(0.5), nearest_rank(0.95), nearest_rank(0.99)).group_by(ranked.c.key)
    )
    return {value: Latency(p50, p95, p99) for value, p50, p95, p99 in rows}


def _latencies(
    session: Session, where: list[ColumnElement[bool]], start: datetime, width: int
) -> dict[int, Latency]:
    by_bucket = latency_percentiles(session, where, _bucket(session, start, width))
    return {int(index): latency for index, latency in by_bucket.items()}


def window(now: datetime, window_seconds: int, bucket_seconds: int) -> tuple[datetime, datetime]:
    """``[start, end)``: ``window_seconds`` ending at the first bucket boundary at or after ``now``."""
    if bucket_seconds < 1 or window_seconds < bucket_seconds or window_seconds % bucket_seconds:
        raise Invalid(
            f"a traffic window of {window_seconds} s does not split into buckets of {bucket_seconds} s"
        )
    if window_seconds // bucket_seconds > MAX_BUCKETS:
        raise Invalid(f"a traffic chart has at most {MAX_BUCKETS} buckets; choose wider buckets")
    end_epoch = math.ceil(now.timestamp() / bucket_seconds) * bucket_seconds
    end = datetime.fromtimestamp(end_epoch, UTC)
    return end - timedelta(seconds=window_seconds), end


def deployment_traffic(
    session: Session,
    actor: Actor,
    name: str,
    *,
    window_seconds: int,
    bucket_seconds: int,
    now: datetime | None = None,
) -> Traffic:
    """Deployment ``name``'s traffic over the last ``window_seconds``, per ``bucket_seconds``.

    ``NotFound`` for a deployment the actor may not read, as everywhere else.
    """
    deployment = get_deployment(session, actor, name)
    start, end = window(now or utcnow(), window_seconds, bucket_seconds)
    where = _of_deployment(deployment.name, deployment.project_id, start, end)
    bucket = _bucket(session, start, bucket_seconds).label("bucket")
    counts: dict[int, dict[str, int]] = {}
    for index, status, count in session.execute(
        select(bucket, Prediction.status, func.count()).where(*where).group_by(bucket, Prediction.status)
    ):
        counts.setdefault(int(index), {})[status] = int(count)
    latencies = _latencies(session, where, start, bucket_seconds)
    buckets = []
    for index in range(window_seconds // bucket_seconds):
        by_status = counts.get(index, {})
        buckets.append(
            TrafficBucket(
                start=start + timedelta(seconds=index * bucket_seconds),
                requests=sum(by_status.values()),
                invalid=by_status.get(PredictionStatus.invalid.value, 0),
                errors=by_status.get(PredictionStatus.error.value, 0),
                latency=latencies.get(index, Latency()),
            )
        )
    overall = _latencies(session, where, start, window_seconds).get(0, Latency())
    return Traffic(start=start, end=end, bucket_seconds=bucket_seconds, buckets=buckets, latency=overall)


def requests_since(
    session: Session, deployments: Sequence[DeploymentRead], since: datetime
) -> dict[str, int]:
    """Requests per deployment name logged at or after ``since`` (one GROUP BY, on the log's index)."""
    if not deployments:
        return {}
    owners = {deployment.name: deployment.project_id for deployment in deployments}
    rows = session.execute(
        select(Prediction.deployment, Prediction.project_id, func.count())
        .where(
            Prediction.deployment.in_(owners),
            Prediction.project_id.in_(set(owners.values())),
            Prediction.created_at >= since,
        )
        .group_by(Prediction.deployment, Prediction.project_id)
    )
    found = {name: int(count) for name, project_id, count in rows if owners.get(name) == project_id}
    return {name: found.get(name, 0) for name in owners}
