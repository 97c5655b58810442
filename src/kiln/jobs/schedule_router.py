"""Schedules' API: /api/v1/schedules (create, list, read, change, enable/disable, delete).

Like the queue's routes, these protect themselves with core's ``require`` and reach the caller's
projects, project rights and the audit trail through core's dependencies, which ``app.py`` fills.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from kiln.core.actor import Actor
from kiln.core.deps import AuditTrailDep, ProjectPermissionsDep, SessionDep, VisibleProjects, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.jobs import schedules
from kiln.jobs.schedule_schemas import ScheduleCreate, ScheduleFilter, ScheduleRead, ScheduleUpdate

router = APIRouter(
    prefix="/api/v1/schedules", tags=["schedules"], responses=error_responses(400, 401, 403, 404, 422, 429)
)

SchedulesRead = Annotated[Actor, Depends(require(Permission.schedules_read))]
SchedulesWrite = Annotated[Actor, Depends(require(Permission.schedules_write))]
ScheduleId = Annotated[str, Path(max_length=36)]


@router.get("", response_model=Page[ScheduleRead])
def list_schedules(
    actor: SchedulesRead,
    session: SessionDep,
    visible: VisibleProjects,
    filters: Annotated[ScheduleFilter, Query()],
    page: PageQuery,
) -> Page[ScheduleRead]:
    """The schedules of the caller's projects by name, each with its next fire time (UTC)."""
    found = schedules.list_schedules(session, filters, page, visible=visible)
    return found.with_items([ScheduleRead.model_validate(schedule) for schedule in found.items])


@router.post("", response_model=ScheduleRead, status_code=201, responses=error_responses(409))
def create_schedule(
    actor: SchedulesWrite,
    session: SessionDep,
    access: ProjectPermissionsDep,
    trail: AuditTrailDep,
    data: ScheduleCreate,
) -> ScheduleRead:
    """A cron schedule (``0 2 * * *`` in ``Europe/Paris``) enqueuing a job of a registered kind with
    the payload given, at each fire; ``catch_up`` says what happens to fires missed while down."""
    schedule = schedules.create_schedule(session, actor, data, access=access, trail=trail)
    return ScheduleRead.model_validate(schedule)


@router.get("/{schedule_id}", response_model=ScheduleRead)
def get_schedule(
    actor: SchedulesRead, session: SessionDep, visible: VisibleProjects, schedule_id: ScheduleId
) -> ScheduleRead:
    return ScheduleRead.model_validate(schedules.get_schedule(session, schedule_id, visible=visible))


@router.patch("/{schedule_id}", response_model=ScheduleRead, responses=error_responses(409))
def update_schedule(
    actor: SchedulesWrite,
    session: SessionDep,
    access: ProjectPermissionsDep,
    trail: AuditTrailDep,
    schedule_id: ScheduleId,
    data: ScheduleUpdate,
) -> ScheduleRead:
    """Change a schedule; ``{"enabled": false}`` disables it, ``true`` enables it from now on."""
    schedule = schedules.update_schedule(session, actor, schedule_id, data, access=access, trail=trail)
    return ScheduleRead.model_validate(schedule)


@router.delete("/{schedule_id}", status_code=204)
def delete_schedule(
    actor: SchedulesWrite,
    session: SessionDep,
    access: ProjectPermissionsDep,
    trail: AuditTrailDep,
    schedule_id: ScheduleId,
) -> Response:
    """Delete a schedule; the jobs it already enqueued stay."""
    schedules.delete_schedule(session, actor, schedule_id, access=access, trail=trail)
    return Response(status_code=204)
