"""How an attempt ends: succeeded, failed (retried after a backoff, or for good), or released.

Each is a conditional update on the job (still running, still this worker's lease, still this
attempt) plus the attempt's own row, in one short transaction of its own: the handler's work has
committed (or rolled back) in its unit of work already, and a failure must be recorded even though
the handler's transaction failed. A row count of 0 means the attempt no longer owns the job (its
lease expired and another worker took over, or it timed out): the late outcome is dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, case, update

from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.jobs.models import Job, JobAttempt
from kiln.jobs.queue import ClaimedJob
from kiln.jobs.schemas import AttemptOutcome, JobState

_jobs = cast(Table, Job.__table__)
_attempts = cast(Table, JobAttempt.__table__)
# Error text kept per attempt and on the job: enough for any message, bounded for the table.
MAX_ERROR_CHARS = 4000
MAX_TRACEBACK_CHARS = 20000

_OWNED = (
    _jobs.c.id == bindparam("b_id"),
    _jobs.c.state == JobState.running.value,
    _jobs.c.lease_owner == bindparam("b_worker"),
    _jobs.c.attempts == bindparam("b_attempt"),
)
_SUCCEED = (
    update(_jobs)
    .where(*_OWNED)
    .values(
        state=JobState.succeeded.value,
        result=bindparam("b_result"),
        finished_at=bindparam("b_now"),
        lease_owner=None,
        lease_expires_at=None,
    )
)
# A job someone asked to cancel ends cancelled whatever its handler raised; otherwise it waits for
# its retry (``b_state`` queued) or has failed for good.
_FAIL = (
    update(_jobs)
    .where(*_OWNED)
    .values(
        state=case(
            (_jobs.c.cancel_requested_at.is_not(None), JobState.cancelled.value), else_=bindparam("b_state")
        ),
        run_after=bindparam("b_run_after"),
        finished_at=case(
            (_jobs.c.cancel_requested_at.is_not(None), bindparam("b_now")), else_=bindparam("b_ended")
        ),
        last_error=bindparam("b_error"),
        last_traceback=bindparam("b_traceback"),
        lease_owner=None,
        lease_expires_at=None,
    )
    .returning(_jobs.c.state)
)
# The worker is stopping: the job goes back to the queue, and this attempt does not use up its budget.
_RELEASE = (
    update(_jobs)
    .where(*_OWNED)
    .values(
        state=case(
            (_jobs.c.cancel_requested_at.is_not(None), JobState.cancelled.value), else_=JobState.queued.value
        ),
        finished_at=case((_jobs.c.cancel_requested_at.is_not(None), bindparam("b_now")), else_=None),
        run_after=bindparam("b_now"),
        max_attempts=_jobs.c.max_attempts + 1,
        lease_owner=None,
        lease_expires_at=None,
    )
)
_CLOSE_ATTEMPT = (
    update(_attempts)
    .where(_attempts.c.job_id == bindparam("b_id"), _attempts.c.number == bindparam("b_attempt"))
    .values(finished_at=bindparam("b_now"), outcome=bindparam("b_outcome"), error=bindparam("b_error"))
)


def _owned(job: ClaimedJob, worker_id: str, now: datetime) -> dict[str, Any]:
    return {"b_id": job.id, "b_worker": worker_id, "b_attempt": job.attempt, "b_now": now}


def _close_attempt(
    connection: Connection, params: dict[str, Any], outcome: AttemptOutcome, error: str | None
) -> None:
    connection.execute(_CLOSE_ATTEMPT, {**params, "b_outcome": outcome.value, "b_error": error})


def succeed(
    db: Database,
    job: ClaimedJob,
    worker_id: str,
    result: dict[str, Any] | None,
    *,
    now: datetime | None = None,
) -> bool:
    """Record the attempt's success; ``False`` when the attempt no longer owned the job."""
    params = _owned(job, worker_id, now or utcnow())
    with db.engine.begin() as connection:
        if connection.execute(_SUCCEED, {**params, "b_result": result}).rowcount != 1:
            return False
        _close_attempt(connection, params, AttemptOutcome.succeeded, None)
    return True


def fail(
    db: Database,
    job: ClaimedJob,
    worker_id: str,
    *,
    error: str,
    traceback: str | None,
    retry_in: timedelta | None,
    outcome: AttemptOutcome = AttemptOutcome.failed,
    now: datetime | None = None,
) -> JobState | None:
    """Record the attempt's failure. With attempts left and ``retry_in`` given, the job is queued
    again, due after the backoff; otherwise it has failed (or, if cancel was asked, is cancelled).
    Answers the job's new state, or ``None`` when the attempt no longer owned the job."""
    now = now or utcnow()
    error = error[:MAX_ERROR_CHARS]
    retry = retry_in is not None and job.attempt < job.max_attempts
    params = _owned(job, worker_id, now)
    with db.engine.begin() as connection:
        row = connection.execute(
            _FAIL,
            {
                **params,
                "b_state": (JobState.queued if retry else JobState.failed).value,
                "b_run_after": now + retry_in if retry and retry_in is not None else now,
                "b_ended": None if retry else now,
                "b_error": error,
                "b_traceback": traceback[-MAX_TRACEBACK_CHARS:] if traceback else None,
            },
        ).first()
        if row is None:
            return None
        state = JobState(row.state)
        ended = AttemptOutcome.cancelled if state is JobState.cancelled else outcome
        _close_attempt(connection, params, ended, error)
    return state


def release(db: Database, job: ClaimedJob, worker_id: str, *, now: datetime | None = None) -> bool:
    """Give the job back to the queue (the worker is stopping before its handler finished)."""
    params = _owned(job, worker_id, now or utcnow())
    with db.engine.begin() as connection:
        if connection.execute(_RELEASE, params).rowcount != 1:
            return False
        _close_attempt(
            connection, params, AttemptOutcome.released, "the worker stopped before the job finished"
        )
    return True
