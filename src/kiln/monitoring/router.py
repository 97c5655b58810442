"""Monitoring REST API: /api/v1/monitoring (what an external tool polls)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.ids import utcnow
from kiln.core.permissions import Permission
from kiln.monitoring import drift_service, service
from kiln.monitoring.drift_schemas import DriftReport
from kiln.monitoring.schemas import DriftQuery, MetricQuery, MetricSeriesList, WindowsCompute, WindowsComputed
from kiln.storage.deps import StoreDep

router = APIRouter(
    prefix="/api/v1/monitoring", tags=["monitoring"], responses=error_responses(400, 401, 403, 404, 422, 429)
)

MonitorsRead = Annotated[Actor, Depends(require(Permission.monitors_read))]
MonitorsWrite = Annotated[Actor, Depends(require(Permission.monitors_write))]


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
