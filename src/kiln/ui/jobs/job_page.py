"""One job: what it was given, its state, every attempt with its error, the last traceback;
cancel and retry forms (the API's, audited the same way)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import HTMLResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_audit_trail, get_db, get_project_permissions, get_project_visibility
from kiln.core.errors import KilnError
from kiln.core.permissions import Permission
from kiln.jobs import service
from kiln.jobs.schemas import RETRYABLE_STATES, JobState
from kiln.ui.csrf import FormDep
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

JobsPage = Annotated[Actor, Depends(page_require(Permission.jobs_read))]
JobsForm = Annotated[Actor, Depends(form_require(Permission.jobs_write))]
JobId = Annotated[str, Path(max_length=36)]


def render_job_page(
    request: Request, actor: Actor, job_id: str, *, error: FormError | None = None
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        visible = get_project_visibility(request)(session, actor)
        job = service.job_detail(session, job_id, visible=visible)
    may_change = actor.may(Permission.jobs_write)
    return render(
        request,
        "jobs/job.html",
        {
            "section": "jobs",
            "job": job,
            "can_cancel": may_change
            and job.state in (JobState.queued, JobState.running)
            and not job.cancel_requested_at,
            "can_retry": may_change and job.state in RETRYABLE_STATES,
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, actor: JobsPage, job_id: JobId) -> HTMLResponse:
    return render_job_page(request, actor, job_id)


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, actor: JobsForm, form: FormDep, job_id: JobId) -> Response:
    return _change(request, actor, job_id, cancel=True)


@router.post("/jobs/{job_id}/retry")
def retry(request: Request, actor: JobsForm, form: FormDep, job_id: JobId) -> Response:
    return _change(request, actor, job_id, cancel=False)


def _change(request: Request, actor: Actor, job_id: str, *, cancel: bool) -> Response:
    change = service.cancel_job if cancel else service.retry_job
    try:
        with get_db(request).unit_of_work() as session:
            change(
                session,
                actor,
                job_id,
                access=get_project_permissions(request),
                trail=get_audit_trail(request),
            )
    except KilnError as exc:
        return render_job_page(request, actor, job_id, error=form_error(exc))
    return redirect_with_notice(f"/jobs/{job_id}", "job_cancelled" if cancel else "job_retried")
