"""Stored drift reports read in bulk for pages: every feature's scores over a range in one query
(a chart of all features, not one query per feature), and the newest report of many deployments
(the overview's drift column)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.core.permissions import Permission
from kiln.monitoring.drift_models import DriftFeatureScore, StoredDriftReport
from kiln.monitoring.drift_reports import MAX_POINTS
from kiln.monitoring.drift_schemas import DRIFT_WINDOW_SECONDS, DriftWindow, FeatureScorePoint
from kiln.serving.deployments import get_deployment


def deployment_scores_over_time(
    session: Session, actor: Actor, deployment: str, *, window: DriftWindow, start: datetime, end: datetime
) -> dict[str, list[FeatureScorePoint]]:
    """Each feature's (and ``prediction``'s) score per stored report in ``[start, end)``, oldest
    first; NotFound for a non-member."""
    found = get_deployment(session, actor, deployment, Permission.monitors_read)
    seconds = DRIFT_WINDOW_SECONDS[window]
    if start >= end:
        raise Invalid("`from` must be before `to`")
    if (end - start).total_seconds() / seconds > MAX_POINTS:
        raise Invalid(f"that range holds more than {MAX_POINTS} windows of {window.value}; narrow it")
    rows = session.scalars(
        select(DriftFeatureScore)
        .where(
            DriftFeatureScore.project_id == found.project_id,
            DriftFeatureScore.deployment == found.name,
            DriftFeatureScore.window_seconds == seconds,
            DriftFeatureScore.start >= start,
            DriftFeatureScore.start < end,
        )
        .order_by(DriftFeatureScore.start, DriftFeatureScore.feature)
    )
    series: dict[str, list[FeatureScorePoint]] = {}
    for row in rows:
        series.setdefault(row.feature, []).append(FeatureScorePoint.model_validate(row))
    return series


def newest_reports(
    session: Session, deployments: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], StoredDriftReport]:
    """The newest stored report (latest end; the shorter window on a tie) of each
    ``(project_id, deployment)`` given: callers pass deployments the actor may already read."""
    if not deployments:
        return {}
    keys = list(dict.fromkeys(deployments))
    newest = (
        select(
            StoredDriftReport.project_id,
            StoredDriftReport.deployment,
            func.max(StoredDriftReport.end).label("end"),
        )
        .where(tuple_(StoredDriftReport.project_id, StoredDriftReport.deployment).in_(keys))
        .group_by(StoredDriftReport.project_id, StoredDriftReport.deployment)
        .subquery()
    )
    rows = session.scalars(
        select(StoredDriftReport)
        .join(
            newest,
            (StoredDriftReport.project_id == newest.c.project_id)
            & (StoredDriftReport.deployment == newest.c.deployment)
            & (StoredDriftReport.end == newest.c.end),
        )
        .order_by(StoredDriftReport.window_seconds.desc())
    )
    # Ordered longest window first, so the shorter one (the fresher verdict) is kept on a tie.
    return {(row.project_id, row.deployment): row for row in rows}
