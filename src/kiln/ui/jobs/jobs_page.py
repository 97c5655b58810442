"""The job queue: jobs of the caller's projects, newest first, by state and kind; above them, the
schedules that enqueue jobs, each with its next fire time (in UTC and in its own zone)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db, get_project_visibility
from kiln.core.pagination import MAX_CURSOR_LENGTH, PageParams
from kiln.core.permissions import Permission
from kiln.jobs import schedules, service
from kiln.jobs.schedule_schemas import ScheduleFilter, ScheduleRead
from kiln.jobs.schemas import KIND_LENGTH, JobFilter, JobRead, JobState
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

JobsPage = Annotated[Actor, Depends(page_require(Permission.jobs_read))]
PER_PAGE = 50
# Schedules shown above the jobs (by name); the API and `kiln jobs schedule list` page through all.
SCHEDULES_SHOWN = 50


@router.get("/jobs", response_class=HTMLResponse)
def jobs_list(
    request: Request,
    actor: JobsPage,
    state: JobState | None = None,
    kind: Annotated[str, Query(max_length=KIND_LENGTH)] = "",
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> HTMLResponse:
    filters = JobFilter(state=state, kind=kind or None)
    with get_db(request).unit_of_work() as session:
        visible = get_project_visibility(request)(session, actor)
        page = service.list_jobs(
            session, filters, PageParams(limit=PER_PAGE, cursor=cursor or None), visible=visible
        )
        jobs = [JobRead.model_validate(job) for job in page.items]
        shown = _schedules(session, actor, visible)
    chosen = {"state": state.value if state else None, "kind": kind or None}
    return render(
        request,
        "jobs/jobs.html",
        {
            "section": "jobs",
            "jobs": jobs,
            "schedules": shown,
            "states": list(JobState),
            "state": state.value if state else "",
            "kind": kind,
            "state_href": lambda value: url_with("/jobs", state=value, kind=kind or None),
            "next_href": url_with("/jobs", **chosen, cursor=page.next_cursor) if page.next_cursor else None,
        },
    )


def _schedules(session: Session, actor: Actor, visible: frozenset[str] | None) -> list[dict[str, Any]] | None:
    """The first schedules with their next fire in their own zone; ``None`` for a caller who may not
    read schedules (the section is left out)."""
    if not actor.may(Permission.schedules_read):
        return None
    found = schedules.list_schedules(
        session, ScheduleFilter(), PageParams(limit=SCHEDULES_SHOWN), visible=visible
    )
    rows = []
    for schedule in (ScheduleRead.model_validate(row) for row in found.items):
        local = (
            schedule.next_fire_at.astimezone(ZoneInfo(schedule.time_zone)) if schedule.next_fire_at else None
        )
        rows.append({"schedule": schedule, "local_fire": f"{local:%Y-%m-%d %H:%M}" if local else None})
    return rows
