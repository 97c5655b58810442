"""Schedules as people manage them: create, list, read, change (enable, disable) and delete.

A schedule belongs to a project: reading needs ``schedules:read`` there, changing it
``schedules:write``; a non-member gets 404, as for a schedule that does not exist. Every change is
audited in its transaction through the ``AuditTrail`` the app installs (audit sits above jobs).
Domains above the queue (pipelines, monitoring) create schedules for their own job kinds through
``create_schedule`` with their payload; the queue knows nothing of what the jobs do.

``next_fire_at`` is set whenever the timing changes: on creation, a new expression or zone, and
enabling, it becomes the first fire after now (a disabled schedule has none, so fires that fell
while it was disabled are not caught up when it is enabled again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.audit_trail import AuditTrail
from kiln.core.errors import Conflict, Invalid, NotFound, PermissionDenied
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.core.project_permissions import ProjectPermissions
from kiln.jobs.cron import next_fire
from kiln.jobs.kinds import job_kind
from kiln.jobs.models import Schedule
from kiln.jobs.schedule_schemas import ScheduleCreate, ScheduleFilter, ScheduleUpdate


def _check_project(
    session: Session, actor: Actor, project_id: str, permission: Permission, access: ProjectPermissions
) -> None:
    held = access(session, actor, project_id)
    if held is None:
        raise NotFound(f"project {project_id!r} not found")
    if permission not in held:
        raise PermissionDenied(f"this needs {permission} in the project")


def _first_fire(cron: str, time_zone: str, now: datetime | None) -> datetime:
    moment = next_fire(cron, time_zone, now or utcnow())
    if moment is None:
        raise Invalid(f"cron expression {cron!r} never fires (no such date)", details={"field": "cron"})
    return moment


def _described(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "cron": schedule.cron,
        "time_zone": schedule.time_zone,
        "kind": schedule.kind,
        "catch_up": schedule.catch_up,
        "enabled": schedule.enabled,
    }


def _flush_unique(session: Session, name: str) -> None:
    """Flush a new or renamed schedule: a race on its name is a 409 (the unit of work rolls back)."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"schedule {name!r} exists in this project; choose another name") from exc


def create_schedule(
    session: Session,
    actor: Actor,
    data: ScheduleCreate,
    *,
    access: ProjectPermissions,
    trail: AuditTrail,
    now: datetime | None = None,
) -> Schedule:
    """A schedule in a project the actor may write schedules in (audited). ``UnknownJobKind`` for a
    kind nobody registered; ``Invalid`` for an expression that never fires."""
    project_id = data.project_id or actor.project_id
    if project_id is None:
        raise Invalid(
            "say which project the schedule belongs to (project_id)", details={"field": "project_id"}
        )
    _check_project(session, actor, project_id, Permission.schedules_write, access)
    job_kind(data.kind)
    if session.scalar(
        select(Schedule.id).where(Schedule.project_id == project_id, Schedule.name == data.name)
    ):
        raise Conflict(f"schedule {data.name!r} exists in this project; choose another name")
    schedule = Schedule(
        project_id=project_id,
        name=data.name,
        cron=data.cron,
        time_zone=data.time_zone,
        kind=data.kind,
        payload=data.payload,
        catch_up=data.catch_up.value,
        enabled=data.enabled,
        next_fire_at=_first_fire(data.cron, data.time_zone, now) if data.enabled else None,
        created_by=actor.user_id,
    )
    session.add(schedule)
    _flush_unique(session, data.name)
    trail(session, actor, "schedule.created", "schedule", schedule.id, _described(schedule))
    return schedule


def list_schedules(
    session: Session, filters: ScheduleFilter, page: PageParams, *, visible: frozenset[str] | None
) -> Page[Schedule]:
    """The schedules of the caller's projects, by name."""
    statement = select(Schedule)
    if visible is not None:
        statement = statement.where(Schedule.project_id.in_(visible))
    if filters.project_id:
        statement = statement.where(Schedule.project_id == filters.project_id)
    if filters.kind:
        statement = statement.where(Schedule.kind == filters.kind)
    if filters.enabled is not None:
        statement = statement.where(Schedule.enabled.is_(filters.enabled))
    return paginate(session, statement.order_by(Schedule.name, Schedule.id), page)


def get_schedule(session: Session, schedule_id: str, *, visible: frozenset[str] | None) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None or (visible is not None and schedule.project_id not in visible):
        raise NotFound(f"schedule {schedule_id!r} not found")
    return schedule


def _writable(session: Session, actor: Actor, schedule_id: str, access: ProjectPermissions) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None or access(session, actor, schedule.project_id) is None:
        raise NotFound(f"schedule {schedule_id!r} not found")
    _check_project(session, actor, schedule.project_id, Permission.schedules_write, access)
    return schedule


def update_schedule(
    session: Session,
    actor: Actor,
    schedule_id: str,
    data: ScheduleUpdate,
    *,
    access: ProjectPermissions,
    trail: AuditTrail,
    now: datetime | None = None,
) -> Schedule:
    """Change a schedule (audited with what it was); enabling or a new timing recomputes its next fire."""
    schedule = _writable(session, actor, schedule_id, access)
    before = _described(schedule)
    retimed = (data.cron is not None and data.cron != schedule.cron) or (
        data.time_zone is not None and data.time_zone != schedule.time_zone
    )
    enabling = data.enabled is True and not schedule.enabled
    if data.name is not None and data.name != schedule.name:
        if session.scalar(
            select(Schedule.id).where(Schedule.project_id == schedule.project_id, Schedule.name == data.name)
        ):
            raise Conflict(f"schedule {data.name!r} exists in this project; choose another name")
        schedule.name = data.name
    for field in ("cron", "time_zone", "payload", "enabled"):
        value = getattr(data, field)
        if value is not None:
            setattr(schedule, field, value)
    if data.catch_up is not None:
        schedule.catch_up = data.catch_up.value
    if not schedule.enabled:
        schedule.next_fire_at = None
    elif retimed or enabling:
        schedule.next_fire_at = _first_fire(schedule.cron, schedule.time_zone, now)
    _flush_unique(session, schedule.name)
    trail(
        session,
        actor,
        "schedule.updated",
        "schedule",
        schedule.id,
        {"before": before, **_described(schedule)},
    )
    return schedule


def delete_schedule(
    session: Session, actor: Actor, schedule_id: str, *, access: ProjectPermissions, trail: AuditTrail
) -> None:
    """Delete a schedule (audited); the jobs it enqueued stay, no longer naming it."""
    schedule = _writable(session, actor, schedule_id, access)
    trail(session, actor, "schedule.deleted", "schedule", schedule.id, _described(schedule))
    session.delete(schedule)
    session.flush()
