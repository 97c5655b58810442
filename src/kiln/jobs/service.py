"""The queue as people see it: list and read jobs, cancel and retry them.

Reading follows the caller's projects (``visible``: their readable project ids, ``None`` for
administrators): a job of another project answers 404, as a missing one does; jobs of no project
(system work) are administrators' only. Cancel and retry are changes made by a person, so they are
audited, in the same transaction, through the ``AuditTrail`` the app installs (audit sits above the
queue); the caller's rights in the job's project come from ``ProjectPermissions`` likewise. Claims,
heartbeats and attempts are bookkeeping and are not audited.

State changes are conditional updates (``WHERE state = :expected``): a cancel racing a worker's
outcome either wins or is told the job has already ended.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, select, update
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.audit_trail import AuditTrail
from kiln.core.errors import InvalidState, NotFound, PermissionDenied
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.core.project_permissions import ProjectPermissions
from kiln.jobs.kinds import job_kind
from kiln.jobs.models import Job, JobAttempt
from kiln.jobs.schemas import RETRYABLE_STATES, JobAttemptRead, JobDetail, JobFilter, JobState

_jobs = cast(Table, Job.__table__)


def _visible(statement: Select[tuple[Job]], visible: frozenset[str] | None) -> Select[tuple[Job]]:
    if visible is None:
        return statement
    return statement.where(Job.project_id.in_(visible))


def list_jobs(
    session: Session, filters: JobFilter, page: PageParams, *, visible: frozenset[str] | None
) -> Page[Job]:
    """Matching jobs of the caller's projects, newest first."""
    statement = _visible(select(Job), visible)
    if filters.state is not None:
        statement = statement.where(Job.state == filters.state.value)
    if filters.kind:
        statement = statement.where(Job.kind == filters.kind)
    if filters.project_id:
        statement = statement.where(Job.project_id == filters.project_id)
    return paginate(session, statement.order_by(Job.created_at.desc(), Job.id.desc()), page)


def get_job(session: Session, job_id: str, *, visible: frozenset[str] | None) -> Job:
    job = session.get(Job, job_id)
    if job is None or (visible is not None and job.project_id not in visible):
        raise NotFound(f"job {job_id!r} not found")
    return job


def job_detail(session: Session, job_id: str, *, visible: frozenset[str] | None) -> JobDetail:
    """One job with its payload, last traceback and every attempt, oldest first."""
    job = get_job(session, job_id, visible=visible)
    attempts = session.scalars(
        select(JobAttempt).where(JobAttempt.job_id == job.id).order_by(JobAttempt.number)
    )
    detail = JobDetail.model_validate(job)
    detail.attempt_history = [JobAttemptRead.model_validate(attempt) for attempt in attempts]
    return detail


def request_cancel(session: Session, job_id: str, *, now: datetime | None = None) -> JobState:
    """Cancel a queued job at once; ask a running one to stop (its worker sees it at the next
    heartbeat and the job ends cancelled). Answers the state the job is now in."""
    now = now or utcnow()
    cancelled = session.connection().execute(
        update(_jobs)
        .where(_jobs.c.id == job_id, _jobs.c.state == JobState.queued.value)
        .values(state=JobState.cancelled.value, cancel_requested_at=now, finished_at=now)
    )
    if cancelled.rowcount == 1:
        return JobState.cancelled
    asked = session.connection().execute(
        update(_jobs)
        .where(_jobs.c.id == job_id, _jobs.c.state == JobState.running.value)
        .values(cancel_requested_at=now)
    )
    if asked.rowcount == 1:
        return JobState.running
    state = session.scalar(select(Job.state).where(Job.id == job_id))
    if state is None:
        raise NotFound(f"job {job_id!r} not found")
    raise InvalidState(f"job {job_id} has {state}; only queued or running jobs can be cancelled")


def requeue(session: Session, job_id: str, *, now: datetime | None = None) -> None:
    """Queue a failed or cancelled job again, due now, with a fresh budget of its kind's attempts
    (the attempts so far stay in its history)."""
    state, kind = session.execute(select(Job.state, Job.kind).where(Job.id == job_id)).one()
    budget = job_kind(kind).max_attempts
    retried = session.connection().execute(
        update(_jobs)
        .where(_jobs.c.id == job_id, _jobs.c.state.in_([s.value for s in RETRYABLE_STATES]))
        .values(
            state=JobState.queued.value,
            run_after=now or utcnow(),
            max_attempts=_jobs.c.attempts + budget,
            cancel_requested_at=None,
            finished_at=None,
        )
    )
    if retried.rowcount != 1:
        raise InvalidState(
            f"job {job_id} has {state}; only failed or cancelled jobs can be retried (cancel it first)"
        )


def _changeable(session: Session, actor: Actor, job_id: str, access: ProjectPermissions) -> Job:
    """The job, if the actor may cancel or retry it: their own with ``jobs:write``, anyone's with
    ``jobs:admin``, in a project they belong to. Others' projects answer 404."""
    job = session.get(Job, job_id)
    held = _held_on(session, actor, job, access) if job is not None else None
    if job is None or held is None:
        raise NotFound(f"job {job_id!r} not found")
    own = actor.user_id is not None and job.enqueued_by == actor.user_id
    needed = Permission.jobs_write if own else Permission.jobs_admin
    if needed not in held:
        whose = "your own" if own else "other people's"
        raise PermissionDenied(f"cancelling or retrying {whose} jobs needs {needed}")
    return job


def _held_on(
    session: Session, actor: Actor, job: Job, access: ProjectPermissions
) -> frozenset[Permission] | None:
    """What the actor may do where the job lives; ``None``: they may not see it."""
    if job.project_id is None:  # system work: administrators' only
        return actor.permissions if actor.is_admin else None
    return access(session, actor, job.project_id)


def cancel_job(
    session: Session, actor: Actor, job_id: str, *, access: ProjectPermissions, trail: AuditTrail
) -> Job:
    """A person cancels a job (audited): queued ones at once, running ones at their next heartbeat."""
    return _change_by_person(session, actor, job_id, request_cancel, "job.cancelled", access, trail)


def retry_job(
    session: Session, actor: Actor, job_id: str, *, access: ProjectPermissions, trail: AuditTrail
) -> Job:
    """A person queues a failed or cancelled job again (audited)."""
    return _change_by_person(session, actor, job_id, requeue, "job.retried", access, trail)


def _change_by_person(
    session: Session,
    actor: Actor,
    job_id: str,
    change: Callable[[Session, str], object],
    action: str,
    access: ProjectPermissions,
    trail: AuditTrail,
) -> Job:
    job = _changeable(session, actor, job_id, access)
    before = job.state
    change(session, job.id)
    trail(session, actor, action, "job", job.id, {"kind": job.kind, "state": before})
    session.refresh(job)
    return job
