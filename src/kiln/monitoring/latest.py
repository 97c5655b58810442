"""The newest computed window of each metric, per deployment: what dashboards call "current".

One query for any number of deployments, over the windows' series index: the latest ``start`` of
each (deployment, metric) among the windows of one size, for the deployment as a whole. The caller
passes deployments it already read through ``serving.deployments`` (scoped to its projects).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session

from kiln.monitoring.models import MetricWindow
from kiln.monitoring.schemas import MetricPoint
from kiln.serving.deployment_models import Deployment

# Windows older than this many window widths are not "current" (a deployment that went quiet).
LOOKBACK_WINDOWS = 48


def latest_points(
    session: Session, deployments: Sequence[Deployment], *, seconds: int, now: datetime
) -> dict[str, dict[str, MetricPoint]]:
    """``{deployment: {metric: newest point}}`` over windows of ``seconds`` that started recently."""
    found: dict[str, dict[str, MetricPoint]] = {deployment.name: {} for deployment in deployments}
    if not deployments:
        return found
    keys = [(deployment.project_id, deployment.name) for deployment in deployments]
    recent = [
        MetricWindow.window_seconds == seconds,
        MetricWindow.model_version_id.is_(None),
        MetricWindow.start >= now - timedelta(seconds=seconds * LOOKBACK_WINDOWS),
        tuple_(MetricWindow.project_id, MetricWindow.deployment).in_(keys),
    ]
    newest = (
        select(
            MetricWindow.project_id,
            MetricWindow.deployment,
            MetricWindow.metric,
            func.max(MetricWindow.start).label("start"),
        )
        .where(*recent)
        .group_by(MetricWindow.project_id, MetricWindow.deployment, MetricWindow.metric)
        .subquery()
    )
    rows = session.scalars(
        select(MetricWindow)
        .join(
            newest,
            and_(
                MetricWindow.project_id == newest.c.project_id,
                MetricWindow.deployment == newest.c.deployment,
                MetricWindow.metric == newest.c.metric,
                MetricWindow.start == newest.c.start,
            ),
        )
        .where(*recent)
    )
    for row in rows:
        found[row.deployment][row.metric] = MetricPoint.model_validate(row)
    return found
