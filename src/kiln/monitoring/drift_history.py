"""Stored drift reports read in bulk for pages: every feature's scores over a range in one query
(a chart of all features, not one query per feature), and the newest report of many deployments
(the overview's drift column)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.monitoring.drift_models import DriftFeatureScore, StoredDriftReport
from kiln.monitoring.drift_reports import check_score_range, latest_drift_reports, scores_in_range
from kiln.monitoring.drift_schemas import DriftWindow, FeatureScorePoint
from kiln.serving.deployments import get_deployment


def deployment_scores_over_time(
    session: Session, actor: Actor, deployment: str, *, window: DriftWindow, start: datetime, end: datetime
) -> dict[str, list[FeatureScorePoint]]:
    """Each feature's (and ``prediction``'s) score per stored report in ``[start, end)``, oldest
    first; NotFound for a non-member."""
    found = get_deployment(session, actor, deployment, Permission.monitors_read)
    check_score_range(window, start, end)
    rows = session.scalars(
        scores_in_range(found.project_id, found.name, window, start, end).order_by(
            DriftFeatureScore.start, DriftFeatureScore.feature
        )
    )
    series: dict[str, list[FeatureScorePoint]] = {}
    for row in rows:
        series.setdefault(row.feature, []).append(FeatureScorePoint.model_validate(row))
    return series


def newest_reports(
    session: Session, deployments: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], StoredDriftReport]:
    """The newest stored report of each ``(project_id, deployment)`` given (the hour's when an hour
    and a day start together: the fresher verdict); callers pass deployments the actor may read."""
    if not deployments:
        return {}
    found: dict[tuple[str, str], StoredDriftReport] = {}
    # Ordered by window size within a deployment: setdefault keeps the shorter window.
    for row in latest_drift_reports(session, limit=len(deployments), deployments=deployments):
        found.setdefault((row.project_id, row.deployment), row)
    return found
