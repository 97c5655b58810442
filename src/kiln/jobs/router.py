"""The job queue's API: list and read jobs (with attempts and errors), cancel and retry them.

Below auth and audit, the queue protects its routes with core's ``require`` and reads the caller's
projects, project rights and the audit trail through core's dependencies, which ``app.py`` fills.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from kiln.core.actor import Actor
from kiln.core.deps import AuditTrailDep, ProjectPermissionsDep, SessionDep, VisibleProjects, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.jobs import service
from kiln.jobs.schemas import JobDetail, JobFilter, JobRead

router = APIRouter(
    prefix="/api/v1/jobs", tags=["jobs"], responses=error_responses(400, 401, 403, 404, 422, 429)
)

JobsRead = Annotated[Actor, Depends(require(Permission.jobs_read))]
JobsWrite = Annotated[Actor, Depends(require(Permission.jobs_write))]
JobId = Annotated[str, Path(max_length=36)]


@router.get("", response_model=Page[JobRead])
def list_jobs(
    actor: JobsRead,
    session: SessionDep,
    visible: VisibleProjects,
    filters: Annotated[JobFilter, Query()],
    page: PageQuery,
) -> Page[JobRead]:
    """The jobs of the caller's projects, newest first; filter by ``state`` and ``kind``."""
    found = service.list_jobs(session, filters, page, visible=visible)
    return found.with_items([JobRead.model_validate(job) for job in found.items])


@router.get("/{job_id}", response_model=JobDetail)
def get_job(actor: JobsRead, session: SessionDep, visible: VisibleProjects, job_id: JobId) -> JobDetail:
    """One job with its payload, every attempt and the last error's traceback."""
    return service.job_detail(session, job_id, visible=visible)


@router.post("/{job_id}/cancel", response_model=JobDetail, responses=error_responses(409))
def cancel_job(
    actor: JobsWrite,
    session: SessionDep,
    visible: VisibleProjects,
    access: ProjectPermissionsDep,
    trail: AuditTrailDep,
    job_id: JobId,
) -> JobDetail:
    """Cancel a queued job, or ask a running one to stop (it ends ``cancelled`` at its worker's next
    heartbeat). Your own jobs with ``jobs:write``; anyone's with ``jobs:admin``."""
    job = service.cancel_job(session, actor, job_id, access=access, trail=trail)
    return service.job_detail(session, job.id, visible=visible)


@router.post("/{job_id}/retry", response_model=JobDetail, responses=error_responses(409))
def retry_job(
    actor: JobsWrite,
    session: SessionDep,
    visible: VisibleProjects,
    access: ProjectPermissionsDep,
    trail: AuditTrailDep,
    job_id: JobId,
) -> JobDetail:
    """Queue a failed or cancelled job again, with a fresh budget of attempts."""
    job = service.retry_job(session, actor, job_id, access=access, trail=trail)
    return service.job_detail(session, job.id, visible=visible)
