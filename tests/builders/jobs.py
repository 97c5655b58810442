"""Jobs, queued through the queue's own ``enqueue`` in a committed unit of work; schedules, made
through their service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI

from kiln.app import kiln_state
from kiln.auth.projects import ensure_default_project
from kiln.core.actor import SYSTEM, Actor
from kiln.core.db import Database
from kiln.jobs import queue, schedules
from kiln.jobs.schedule_schemas import ScheduleCreate
from tests.builders.core import unique


def make_job(db: Database, kind: str, payload: dict[str, Any] | None = None, **options: Any) -> str:
    """``queue.enqueue`` with the same options (project_id, actor, run_after, priority, max_attempts)."""
    with db.unit_of_work() as session:
        return queue.enqueue(session, kind, payload, **options)


def make_schedule(
    app: FastAPI,
    kind: str,
    *,
    cron: str = "0 2 * * *",
    time_zone: str = "UTC",
    now: datetime | None = None,
    actor: Actor = SYSTEM,
    **fields: Any,
) -> str:
    """A schedule made through the service (audited, as the API makes it), first firing after ``now``;
    in the default project unless ``project_id`` is given."""
    state = kiln_state(app)
    fields.setdefault("name", unique("schedule"))
    with state.db.unit_of_work() as session:
        fields.setdefault("project_id", ensure_default_project(session).id)
        data = ScheduleCreate(cron=cron, time_zone=time_zone, kind=kind, **fields)
        schedule = schedules.create_schedule(
            session, actor, data, access=state.project_permissions, trail=state.audit_trail, now=now
        )
        return schedule.id
