"""Retraining triggers REST API: /api/v1/monitoring/retraining (drift or an alert runs a pipeline)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.monitoring import retraining
from kiln.monitoring.retraining_schemas import (
    RetrainingTriggerCreate,
    RetrainingTriggerFilter,
    RetrainingTriggerRead,
)

router = APIRouter(
    prefix="/api/v1/monitoring/retraining",
    tags=["monitoring"],
    responses=error_responses(400, 401, 403, 404, 422, 429),
)

MonitorsRead = Annotated[Actor, Depends(require(Permission.monitors_read))]
MonitorsWrite = Annotated[Actor, Depends(require(Permission.monitors_write))]
Id = Annotated[str, Path(max_length=36)]


@router.post("", response_model=RetrainingTriggerRead, status_code=201, responses=error_responses(409))
def create_trigger(
    actor: MonitorsWrite, session: SessionDep, data: RetrainingTriggerCreate
) -> RetrainingTriggerRead:
    """When the deployment drifts or its alert fires, run the pipeline (at most once per cooldown)."""
    return RetrainingTriggerRead.model_validate(retraining.create_retraining_trigger(session, actor, data))


@router.get("", response_model=Page[RetrainingTriggerRead])
def list_triggers(
    actor: MonitorsRead,
    session: SessionDep,
    filters: Annotated[RetrainingTriggerFilter, Query()],
    page: PageQuery,
) -> Page[RetrainingTriggerRead]:
    """Triggers of the caller's projects with what each last did: `?deployment=fraud`."""
    found = retraining.list_retraining_triggers(session, actor, filters, page)
    return found.with_items([RetrainingTriggerRead.model_validate(trigger) for trigger in found.items])


@router.delete("/{trigger_id}", status_code=204)
def delete_trigger(actor: MonitorsWrite, session: SessionDep, trigger_id: Id) -> Response:
    retraining.delete_retraining_trigger(session, actor, trigger_id)
    return Response(status_code=204)
