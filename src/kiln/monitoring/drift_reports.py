"""Stored drift reports: computing one per deployment and window, and reading them back.

The monitoring tick queues ``monitoring.drift_report`` jobs for every hour and day window that closed
with traffic (``drift_tasks``); each stores, or replaces, that window's report. A report is drift of
the window's served inputs and predictions against the reference sample of the model version that
answered most of it, so recomputing a window gives the same report (the same log, the same seed).
After commit, the latest scores go to Prometheus and, when the report newly recommends retraining,
``DriftDetected`` is announced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, tuple_
from sqlalchemy.orm import Session

from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.db import after_commit
from kiln.core.errors import Invalid, NotFound
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.monitoring.drift_metrics import LatestDrift, drift_scores
from kiln.monitoring.drift_models import DriftFeatureScore, StoredDriftReport
from kiln.monitoring.drift_schemas import (
    DRIFT_WINDOW_SECONDS,
    DriftReport,
    DriftReportFilter,
    DriftThresholds,
    DriftWindow,
    FeatureScorePoint,
    FeatureScoreSeries,
)
from kiln.monitoring.drift_service import served_drift, version_references
from kiln.monitoring.drift_settings import effective_thresholds
from kiln.monitoring.events import DriftDetected
from kiln.monitoring.retraining_fire import queue_retraining
from kiln.monitoring.schemas import DriftReportCompute
from kiln.monitoring.windows import check_window, window_start
from kiln.serving.deployments import get_deployment
from kiln.serving.models import Prediction
from kiln.serving.schemas import PredictionStatus
from kiln.storage.store import ArtifactStore

# Points one feature's series answers at most (about three months of hours).
MAX_POINTS = 2_000


def check_drift_window(seconds: int, start: datetime) -> None:
    if seconds not in DRIFT_WINDOW_SECONDS.values():
        sizes = ", ".join(f"{window.value} ({value} s)" for window, value in DRIFT_WINDOW_SECONDS.items())
        raise Invalid(f"drift reports are kept for windows of {sizes}, not {seconds} s")
    check_window(start, seconds)  # on its grid


def check_score_range(window: DriftWindow, start: datetime, end: datetime) -> None:
    """A chart's range: forwards, and at most ``MAX_POINTS`` windows."""
    if start >= end:
        raise Invalid("`from` must be before `to`")
    if (end - start).total_seconds() / DRIFT_WINDOW_SECONDS[window] > MAX_POINTS:
        raise Invalid(f"that range holds more than {MAX_POINTS} windows of {window.value}; narrow it")


def compute_drift_report(
    session: Session,
    store: ArtifactStore,
    *,
    project_id: str,
    deployment: str,
    seconds: int,
    start: datetime,
    thresholds: DriftThresholds | None = None,
) -> StoredDriftReport | None:
    """Store (or replace) the report of one window; None, storing nothing, when the window had no
    answered traffic or its model version has no reference sample."""
    check_drift_window(seconds, start)
    end = start + timedelta(seconds=seconds)
    version = _window_version(session, project_id, deployment, start, end)
    if version is None:
        return None
    version_id, version_number = version
    references = version_references(session, store, version_id)
    if references is None:
        return None
    # The thresholds stored for the version (or its model) now: a change applies from the next report.
    if thresholds is None:
        thresholds, source = effective_thresholds(session, version_id)
    else:
        source = "given"
    report = served_drift(
        session,
        references,
        deployment=deployment,
        project_id=project_id,
        version_id=version_id,
        start=start,
        end=end,
        thresholds=thresholds,
    )
    stored = session.scalars(
        select(StoredDriftReport).where(
            StoredDriftReport.project_id == project_id,
            StoredDriftReport.deployment == deployment,
            StoredDriftReport.window_seconds == seconds,
            StoredDriftReport.start == start,
        )
    ).one_or_none()
    was_recommending = stored is not None and stored.retrain_recommended
    if stored is None:
        stored = StoredDriftReport(
            project_id=project_id, deployment=deployment, window_seconds=seconds, start=start
        )
        session.add(stored)
    else:
        session.execute(delete(DriftFeatureScore).where(DriftFeatureScore.report_id == stored.id))
    _fill(stored, report, thresholds, end=end, version_id=version_id, version_number=version_number)
    stored.thresholds_source = source
    session.flush()
    session.add_all(_scores(stored, report))
    session.flush()
    _announce(session, stored, newly_drifted=stored.retrain_recommended and not was_recommending)
    return stored


def compute_window_report(
    session: Session, actor: Actor, store: ArtifactStore, deployment: str, data: DriftReportCompute
) -> StoredDriftReport | None:
    """A person's or tool's request to (re)compute one window now; monitors:write on the deployment."""
    found = get_deployment(session, actor, deployment, Permission.monitors_write)
    return compute_drift_report(
        session,
        store,
        project_id=found.project_id,
        deployment=found.name,
        seconds=DRIFT_WINDOW_SECONDS[DriftWindow(data.window)],
        start=data.start,
    )


def list_drift_reports(
    session: Session, actor: Actor, deployment: str, filters: DriftReportFilter, page: PageParams
) -> Page[StoredDriftReport]:
    """A deployment's stored reports, newest window first; NotFound for a non-member."""
    found = get_deployment(session, actor, deployment, Permission.monitors_read)
    statement = _of(found.project_id, found.name)
    if filters.window is not None:
        statement = statement.where(StoredDriftReport.window_seconds == DRIFT_WINDOW_SECONDS[filters.window])
    if filters.start is not None:
        statement = statement.where(StoredDriftReport.start >= filters.start)
    if filters.end is not None:
        statement = statement.where(StoredDriftReport.start < filters.end)
    if filters.retrain_recommended is not None:
        statement = statement.where(StoredDriftReport.retrain_recommended == filters.retrain_recommended)
    ordered = statement.order_by(
        StoredDriftReport.start.desc(), StoredDriftReport.window_seconds, StoredDriftReport.id
    )
    return paginate(session, ordered, page)


def get_drift_report(session: Session, actor: Actor, deployment: str, report_id: str) -> StoredDriftReport:
    found = get_deployment(session, actor, deployment, Permission.monitors_read)
    report = session.get(StoredDriftReport, report_id)
    if report is None or report.project_id != found.project_id or report.deployment != found.name:
        raise NotFound(f"drift report {report_id!r} of deployment {deployment!r} not found")
    return report


def feature_scores_over_time(
    session: Session,
    actor: Actor,
    deployment: str,
    feature: str,
    *,
    window: DriftWindow = DriftWindow.hour,
    start: datetime | None = None,
    end: datetime | None = None,
) -> FeatureScoreSeries:
    """One feature's (or ``prediction``'s) score, verdict and PSI per stored report, oldest first:
    the data of a chart of how it moved. Default range: the last ``MAX_POINTS`` windows."""
    found = get_deployment(session, actor, deployment, Permission.monitors_read)
    seconds = DRIFT_WINDOW_SECONDS[window]
    end = end or utcnow()
    start = start or end - timedelta(seconds=seconds * MAX_POINTS)
    check_score_range(window, start, end)
    rows = session.scalars(
        scores_in_range(found.project_id, found.name, window, start, end)
        .where(DriftFeatureScore.feature == feature)
        .order_by(DriftFeatureScore.start)
    )
    points = [FeatureScorePoint.model_validate(row) for row in rows]
    return FeatureScoreSeries(deployment=found.name, feature=feature, window=window, points=points)


def scores_in_range(
    project_id: str, deployment: str, window: DriftWindow, start: datetime, end: datetime
) -> Select[Any]:
    """The per-feature score rows of a deployment's reports starting in the range (``start``
    snapped to its window's grid)."""
    seconds = DRIFT_WINDOW_SECONDS[window]
    return select(DriftFeatureScore).where(
        DriftFeatureScore.project_id == project_id,
        DriftFeatureScore.deployment == deployment,
        DriftFeatureScore.window_seconds == seconds,
        DriftFeatureScore.start >= window_start(start, seconds),
        DriftFeatureScore.start < end,
    )


def latest_drift_reports(
    session: Session, *, limit: int = 500, deployments: Sequence[tuple[str, str]] | None = None
) -> list[StoredDriftReport]:
    """The newest stored report of each deployment (of any window size; both when an hour and a day
    start together), for priming gauges; ``deployments`` (``(project_id, name)``) narrows it."""
    grouped = select(
        StoredDriftReport.project_id,
        StoredDriftReport.deployment,
        func.max(StoredDriftReport.start).label("start"),
    )
    if deployments is not None:
        keys = list(dict.fromkeys(deployments))
        grouped = grouped.where(tuple_(StoredDriftReport.project_id, StoredDriftReport.deployment).in_(keys))
    newest = (
        grouped.group_by(StoredDriftReport.project_id, StoredDriftReport.deployment).limit(limit).subquery()
    )
    rows = session.scalars(
        select(StoredDriftReport)
        .join(
            newest,
            (StoredDriftReport.project_id == newest.c.project_id)
            & (StoredDriftReport.deployment == newest.c.deployment)
            & (StoredDriftReport.start == newest.c.start),
        )
        .order_by(StoredDriftReport.deployment, StoredDriftReport.window_seconds)
    )
    return list(rows)


def prime_drift_scores(session: Session) -> int:
    """Load the newest report of each deployment into the Prometheus gauges (at start)."""
    reports = latest_drift_reports(session)
    for report in reports:
        drift_scores.record(report.deployment, _latest(report))
    return len(reports)


def _of(project_id: str, deployment: str) -> Select[Any]:
    return select(StoredDriftReport).where(
        StoredDriftReport.project_id == project_id, StoredDriftReport.deployment == deployment
    )


def _window_version(
    session: Session, project_id: str, deployment: str, start: datetime, end: datetime
) -> tuple[str, int | None] | None:
    """The model version that answered most of the window (the later one on a tie)."""
    answered = func.count().label("answered")
    row = session.execute(
        select(Prediction.model_version_id, Prediction.model_version_number, answered)
        .where(
            Prediction.deployment == deployment,
            Prediction.project_id == project_id,
            Prediction.created_at >= start,
            Prediction.created_at < end,
            Prediction.status == PredictionStatus.ok.value,
            Prediction.model_version_id.is_not(None),
        )
        .group_by(Prediction.model_version_id, Prediction.model_version_number)
        .order_by(answered.desc(), Prediction.model_version_number.desc(), Prediction.model_version_id)
        .limit(1)
    ).first()
    if row is None or row.model_version_id is None:
        return None
    return str(row.model_version_id), row.model_version_number


def _fill(
    stored: StoredDriftReport,
    report: DriftReport,
    thresholds: DriftThresholds,
    *,
    end: datetime,
    version_id: str,
    version_number: int | None,
) -> None:
    stored.end = end
    stored.model_version_id = version_id
    stored.model_version_number = version_number
    stored.rows = max((feature.current_count for feature in report.features), default=0)
    stored.dataset_drift = report.dataset_drift
    stored.prediction_drift = report.prediction_drift
    stored.drifted_share = report.drifted_share
    stored.retrain_recommended = report.retrain_recommended
    stored.drifted_features = list(report.drifted_features)
    stored.summary = report.summary
    # JSON mode: an infinite distance (a constant reference that moved) travels as "Infinity".
    stored.features = [feature.model_dump(mode="json") for feature in report.features]
    stored.thresholds = thresholds.model_dump(mode="json")
    stored.computed_at = utcnow()


def _scores(stored: StoredDriftReport, report: DriftReport) -> list[DriftFeatureScore]:
    return [
        DriftFeatureScore(
            report_id=stored.id,
            feature=feature.feature,
            project_id=stored.project_id,
            deployment=stored.deployment,
            window_seconds=stored.window_seconds,
            start=stored.start,
            kind=feature.kind,
            method=None if feature.method is None else feature.method.value,
            score=feature.score,
            threshold=feature.threshold,
            drifted=feature.drifted,
            psi=feature.psi,
            current_count=feature.current_count,
        )
        for feature in report.features
    ]


def _latest(report: StoredDriftReport) -> LatestDrift:
    psi = {
        str(feature["feature"]): float(feature["psi"])
        for feature in report.features
        if isinstance(feature.get("psi"), int | float)
    }
    start = report.start if report.start.tzinfo else report.start.replace(tzinfo=UTC)
    return LatestDrift(
        drifted_share=report.drifted_share,
        retrain_recommended=report.retrain_recommended,
        prediction_drift=report.prediction_drift,
        start_seconds=start.timestamp(),
        feature_psi=psi,
    )


def _announce(session: Session, stored: StoredDriftReport, *, newly_drifted: bool) -> None:
    latest = _latest(stored)
    deployment = stored.deployment
    after_commit(session, lambda: drift_scores.record(deployment, latest))
    if newly_drifted:
        drifted = DriftDetected(
            project_id=stored.project_id,
            deployment=stored.deployment,
            report_id=stored.id,
            model_version_id=stored.model_version_id,
            model_version_number=stored.model_version_number,
            window_seconds=stored.window_seconds,
            start=stored.start,
            end=stored.end,
            drifted_features=tuple(stored.drifted_features),
            drifted_share=stored.drifted_share,
            prediction_drift=stored.prediction_drift,
            summary=stored.summary,
        )
        events.publish(session, drifted)
        queue_retraining(session, drifted)
