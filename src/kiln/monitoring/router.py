"""Monitoring REST API: /api/v1/monitoring (what an external tool polls)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.permissions import Permission
from kiln.monitoring import service
from kiln.monitoring.schemas import MetricQuery, MetricSeriesList, WindowsCompute, WindowsComputed

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
