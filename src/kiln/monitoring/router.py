"""Monitoring REST API: /api/v1/monitoring (what an external tool polls)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.ids import utcnow
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.monitoring import drift_reports, drift_service, drift_settings, service
from kiln.monitoring.drift_schemas import (
    DriftReport,
    DriftReportFilter,
    DriftReportRead,
    DriftReportSummary,
    DriftThresholds,
    DriftWindow,
    FeatureScoreSeries,
)
from kiln.monitoring.drift_settings_schemas import DriftSettingsRead
from kiln.monitoring.schemas import (
    DriftQuery,
    DriftReportCompute,
    FeatureScoreQuery,
    MetricQuery,
    MetricSeriesList,
    WindowsCompute,
    WindowsComputed,
)
from kiln.storage.deps import StoreDep

router = APIRouter(
    prefix="/api/v1/monitoring", tags=["monitoring"], responses=error_responses(400, 401, 403, 404, 422, 429)
)

MonitorsRead = Annotated[Actor, Depends(require(Permission.monitors_read))]
MonitorsWrite = Annotated[Actor, Depends(require(Permission.monitors_write))]
Deployment = Annotated[str, Path(min_length=1, max_length=256)]
ReportId = Annotated[str, Path(max_length=36)]
Feature = Annotated[str, Path(min_length=1, max_length=256)]
Model = Annotated[str, Path(min_length=1, max_length=256)]
Version = Annotated[int, Path(ge=1)]
ProjectChoice = Annotated[str | None, Query(max_length=128, description="project id or name")]


@router.get("/metrics", response_model=MetricSeriesList)
def get_metrics(
    actor: MonitorsRead, session: SessionDep, query: Annotated[MetricQuery, Query()]
) -> MetricSeriesList:
    """A metric of deployments per window: `?deployment=fraud&metric=accuracy&window=1h&from=&to=`."""
    return service.metric_series(session, actor, query)


@router.post("/windows", response_model=WindowsComputed)
def compute_windows(actor: MonitorsWrite, session: SessionDep, data: WindowsCompute) -> WindowsComputed:
    """Recompute the windows of a range: after downtime, or to take in late ground truth. Idempotent."""
    return service.recompute_windows(session, actor, data)


@router.get("/drift", response_model=DriftReport)
def get_drift(
    actor: MonitorsRead, session: SessionDep, store: StoreDep, query: Annotated[DriftQuery, Query()]
) -> DriftReport:
    """Per-feature drift of a deployment's served inputs against its model's training sample."""
    end = query.end or utcnow()
    start = query.start or end - timedelta(hours=1)
    return drift_service.deployment_drift(session, actor, store, query.deployment, start=start, end=end)


# -- stored drift reports (one per deployment and hour or day, computed by the monitoring tick) -----


@router.get("/deployments/{deployment}/drift-reports", response_model=Page[DriftReportSummary])
def list_drift_reports(
    actor: MonitorsRead,
    session: SessionDep,
    deployment: Deployment,
    filters: Annotated[DriftReportFilter, Query()],
    page: PageQuery,
) -> Page[DriftReportSummary]:
    """The deployment's stored drift reports, newest window first: `?window=1h&retrain_recommended=true`."""
    found = drift_reports.list_drift_reports(session, actor, deployment, filters, page)
    return found.with_items([DriftReportSummary.model_validate(report) for report in found.items])


@router.post("/deployments/{deployment}/drift-reports", response_model=DriftReportRead | None)
def compute_drift_report(
    actor: MonitorsWrite,
    session: SessionDep,
    store: StoreDep,
    deployment: Deployment,
    data: DriftReportCompute,
) -> DriftReportRead | None:
    """Compute (or recompute) one window's report now; null when the window had no answered traffic."""
    report = drift_reports.compute_window_report(session, actor, store, deployment, data)
    return None if report is None else DriftReportRead.model_validate(report)


@router.get("/deployments/{deployment}/drift-reports/{report_id}", response_model=DriftReportRead)
def get_drift_report(
    actor: MonitorsRead, session: SessionDep, deployment: Deployment, report_id: ReportId
) -> DriftReportRead:
    """One stored report: every feature's measures, verdict and reference-vs-current histogram."""
    return DriftReportRead.model_validate(
        drift_reports.get_drift_report(session, actor, deployment, report_id)
    )


@router.get("/deployments/{deployment}/drift-features/{feature}", response_model=FeatureScoreSeries)
def get_feature_scores(
    actor: MonitorsRead,
    session: SessionDep,
    deployment: Deployment,
    feature: Feature,
    query: Annotated[FeatureScoreQuery, Query()],
) -> FeatureScoreSeries:
    """One feature's (or `prediction`'s) drift score per stored report, oldest first, for a chart."""
    return drift_reports.feature_scores_over_time(
        session,
        actor,
        deployment,
        feature,
        window=DriftWindow(query.window),
        start=query.start,
        end=query.end,
    )


# -- drift settings: thresholds per registered model, and per version ------------------------------


@router.get("/models/{model}/drift-settings", response_model=DriftSettingsRead)
def get_model_drift_settings(
    actor: MonitorsRead, session: SessionDep, model: Model, project: ProjectChoice = None
) -> DriftSettingsRead:
    """The drift thresholds the model's reports use (its own, or the defaults)."""
    return drift_settings.get_drift_settings(session, actor, model, project=project)


@router.put("/models/{model}/drift-settings", response_model=DriftSettingsRead)
def put_model_drift_settings(
    actor: MonitorsWrite,
    session: SessionDep,
    model: Model,
    data: DriftThresholds,
    project: ProjectChoice = None,
) -> DriftSettingsRead:
    """Replace the model's drift thresholds (every version without its own); reports from now use them."""
    return drift_settings.put_drift_settings(session, actor, model, data, project=project)


@router.delete("/models/{model}/drift-settings", status_code=204)
def delete_model_drift_settings(
    actor: MonitorsWrite, session: SessionDep, model: Model, project: ProjectChoice = None
) -> Response:
    drift_settings.delete_drift_settings(session, actor, model, project=project)
    return Response(status_code=204)


@router.get("/models/{model}/versions/{version}/drift-settings", response_model=DriftSettingsRead)
def get_version_drift_settings(
    actor: MonitorsRead, session: SessionDep, model: Model, version: Version, project: ProjectChoice = None
) -> DriftSettingsRead:
    """The thresholds reports of this version use: its own, else the model's, else the defaults."""
    return drift_settings.get_drift_settings(session, actor, model, version=version, project=project)


@router.put("/models/{model}/versions/{version}/drift-settings", response_model=DriftSettingsRead)
def put_version_drift_settings(
    actor: MonitorsWrite,
    session: SessionDep,
    model: Model,
    version: Version,
    data: DriftThresholds,
    project: ProjectChoice = None,
) -> DriftSettingsRead:
    """This version's own thresholds, replacing the model's whole for its reports."""
    return drift_settings.put_drift_settings(session, actor, model, data, version=version, project=project)


@router.delete("/models/{model}/versions/{version}/drift-settings", status_code=204)
def delete_version_drift_settings(
    actor: MonitorsWrite, session: SessionDep, model: Model, version: Version, project: ProjectChoice = None
) -> Response:
    drift_settings.delete_drift_settings(session, actor, model, version=version, project=project)
    return Response(status_code=204)
