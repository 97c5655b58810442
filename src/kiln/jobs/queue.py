"""Getting jobs in and out of the queue: enqueue (in the caller's transaction), claim, heartbeat.

Claiming is the hot path, so its statements are built once, here, and run as Core on one short
transaction. The same code serves both databases:
- PostgreSQL locks the candidate rows with ``FOR UPDATE SKIP LOCKED``: concurrent claimers skip
  each other's rows instead of queueing behind them;
- SQLite renders no ``FOR UPDATE``; its driver reads the candidates before the write transaction
  begins, so two claimers may see the same row. The conditional update (``WHERE id = :id AND`` the
  row is still claimable ``AND attempts = :seen``) lets exactly one of them take it: the other's
  row count is 0 and it moves on.

A running job whose lease expired (its worker stopped heartbeating: it died) is claimable again; the
lost attempt is closed as ``lost`` and counts against the job's attempts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.db import Database, after_commit
from kiln.core.errors import Invalid
from kiln.core.ids import new_id, utcnow
from kiln.jobs.kinds import job_kind
from kiln.jobs.models import Job, JobAttempt
from kiln.jobs.schemas import AttemptOutcome, JobState

_jobs = cast(Table, Job.__table__)
_attempts = cast(Table, JobAttempt.__table__)
_QUEUED = JobState.queued.value
_RUNNING = JobState.running.value


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job this worker holds the lease of, for its ``attempt``-th run."""

    id: str
    kind: str
    payload: dict[str, Any]
    project_id: str | None
    attempt: int
    max_attempts: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The answer to one heartbeat: which jobs someone asked to cancel, and which this worker lost
    (another worker took them over after the lease expired, or they ended meanwhile)."""

    cancel_requested: frozenset[str]
    lost: frozenset[str]


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    project_id: str | None = None,
    actor: Actor | None = None,
    run_after: datetime | None = None,
    priority: int = 0,
    max_attempts: int | None = None,
    enqueued_by: str | None = None,
    schedule_id: str | None = None,
    scheduled_for: datetime | None = None,
) -> str:
    """Queue a job in the caller's transaction and return its id: it exists (and runs) only if that
    transaction commits. ``UnknownJobKind`` for a kind no domain registered. A schedule's jobs name
    it and the fire time they stand for, and the user who made it (``enqueued_by``)."""
    registered = job_kind(kind)
    payload = payload or {}
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise Invalid(f"a job's payload must be JSON: {exc}") from None
    now = utcnow()
    job_id = new_id()
    session.execute(
        insert(_jobs).values(
            id=job_id,
            kind=kind,
            payload=payload,
            project_id=project_id,
            state=_QUEUED,
            priority=priority,
            attempts=0,
            max_attempts=max_attempts or registered.max_attempts,
            run_after=run_after or now,
            created_at=now,
            enqueued_by=actor.user_id if actor is not None else enqueued_by,
            schedule_id=schedule_id,
            scheduled_for=scheduled_for,
        )
    )
    after_commit(session, _announce)
    return job_id


# Workers of this process wait on an event between polls; a commit that queued jobs wakes them, so
# the embedded server starts a job at once instead of at the next poll. (Other processes poll.)
_listeners: list[Callable[[], None]] = []
_listeners_lock = threading.Lock()


def listen_for_enqueued(callback: Callable[[], None]) -> None:
    with _listeners_lock:
        _listeners.append(callback)


def stop_listening(callback: Callable[[], None]) -> None:
    with _listeners_lock:
        if callback in _listeners:
            _listeners.remove(callback)


def _announce() -> None:
    with _listeners_lock:
        callbacks = list(_listeners)
    for callback in callbacks:
        callback()


_CLAIMABLE = or_(
    and_(_jobs.c.state == _QUEUED, _jobs.c.run_after <= bindparam("b_now")),
    and_(_jobs.c.state == _RUNNING, _jobs.c.lease_expires_at < bindparam("b_now")),
)
_CANDIDATES = (
    select(
        _jobs.c.id,
        _jobs.c.kind,
        _jobs.c.payload,
        _jobs.c.project_id,
        _jobs.c.state,
        _jobs.c.attempts,
        _jobs.c.max_attempts,
        _jobs.c.lease_owner,
        _jobs.c.cancel_requested_at,
    )
    .where(_CLAIMABLE, _jobs.c.kind.in_(bindparam("b_kinds", expanding=True)))
    .order_by(_jobs.c.priority.desc(), _jobs.c.run_after, _jobs.c.id)
    .limit(bindparam("b_limit"))
    # PostgreSQL only; SQLite's compiler leaves it out and the conditional update below decides.
    .with_for_update(skip_locked=True)
)
_TAKE = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("b_id"), _jobs.c.attempts == bindparam("b_attempts"), _CLAIMABLE)
    .values(
        state=_RUNNING,
        attempts=_jobs.c.attempts + 1,
        lease_owner=bindparam("b_worker"),
        lease_expires_at=bindparam("b_expires"),
        heartbeat_at=bindparam("b_now"),
        started_at=func.coalesce(_jobs.c.started_at, bindparam("b_now")),
    )
)
# A lost job with no attempts left fails instead of running again; one that was asked to cancel is cancelled.
_GIVE_UP_LOST = (
    update(_jobs)
    .where(
        _jobs.c.id == bindparam("b_id"),
        _jobs.c.attempts == bindparam("b_attempts"),
        _jobs.c.state == _RUNNING,
        _jobs.c.lease_expires_at < bindparam("b_now"),
    )
    .values(
        state=bindparam("b_state"),
        lease_owner=None,
        lease_expires_at=None,
        finished_at=bindparam("b_now"),
        last_error=bindparam("b_error"),
        last_traceback=None,
    )
)
_CLOSE_LOST_ATTEMPT = (
    update(_attempts)
    .where(
        _attempts.c.job_id == bindparam("b_id"),
        _attempts.c.number == bindparam("b_number"),
        _attempts.c.finished_at.is_(None),
    )
    .values(finished_at=bindparam("b_now"), outcome=AttemptOutcome.lost.value, error=bindparam("b_error"))
)
_OPEN_ATTEMPT = insert(_attempts)


def claim(
    db: Database,
    worker_id: str,
    *,
    kinds: Collection[str],
    limit: int = 1,
    lease_seconds: float = 30.0,
    now: datetime | None = None,
) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs of ``kinds`` (highest priority, then longest due) for
    ``worker_id``, leased for ``lease_seconds``; committed before it returns."""
    if not kinds or limit < 1:
        return []
    now = now or utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    claimed: list[ClaimedJob] = []
    with db.engine.begin() as connection:
        candidates = connection.execute(
            _CANDIDATES, {"b_now": now, "b_kinds": list(kinds), "b_limit": limit}
        ).all()
        for row in candidates:
            seen = {"b_id": row.id, "b_attempts": row.attempts, "b_now": now}
            lost = row.state == _RUNNING
            error = f"lease expired: worker {row.lease_owner} stopped heartbeating" if lost else None
            if lost and (row.attempts >= row.max_attempts or row.cancel_requested_at is not None):
                cancelled = row.cancel_requested_at is not None
                end = JobState.cancelled if cancelled else JobState.failed
                if not cancelled:
                    error = f"{error}, on the last of {row.max_attempts} attempts"
                ended = {**seen, "b_error": error, "b_state": end.value}
                if connection.execute(_GIVE_UP_LOST, ended).rowcount == 1:
                    connection.execute(
                        _CLOSE_LOST_ATTEMPT, {**seen, "b_number": row.attempts, "b_error": error}
                    )
                continue
            taken = connection.execute(_TAKE, {**seen, "b_worker": worker_id, "b_expires": expires})
            if taken.rowcount != 1:
                continue  # another claimer was first
            if lost:
                connection.execute(_CLOSE_LOST_ATTEMPT, {**seen, "b_number": row.attempts, "b_error": error})
            claimed.append(
                ClaimedJob(
                    id=row.id,
                    kind=row.kind,
                    payload=row.payload or {},
                    project_id=row.project_id,
                    attempt=row.attempts + 1,
                    max_attempts=row.max_attempts,
                )
            )
        if claimed:
            connection.execute(
                _OPEN_ATTEMPT,
                [
                    {"job_id": job.id, "number": job.attempt, "worker_id": worker_id, "started_at": now}
                    for job in claimed
                ],
            )
    return claimed


_BEAT = (
    update(_jobs)
    .where(
        _jobs.c.id.in_(bindparam("b_ids", expanding=True)),
        _jobs.c.state == _RUNNING,
        _jobs.c.lease_owner == bindparam("b_worker"),
    )
    .values(lease_expires_at=bindparam("b_expires"), heartbeat_at=bindparam("b_now"))
    .returning(_jobs.c.id, _jobs.c.cancel_requested_at)
)


def heartbeat(
    db: Database,
    worker_id: str,
    job_ids: Collection[str],
    *,
    lease_seconds: float = 30.0,
    now: datetime | None = None,
) -> Heartbeat:
    """Extend the leases of the worker's running jobs, in one statement. Telemetry: not audited."""
    if not job_ids:
        return Heartbeat(frozenset(), frozenset())
    now = now or utcnow()
    params = {
        "b_ids": list(job_ids),
        "b_worker": worker_id,
        "b_now": now,
        "b_expires": now + timedelta(seconds=lease_seconds),
    }
    with db.engine.begin() as connection:
        rows = connection.execute(_BEAT, params).all()
    alive = {row.id for row in rows}
    return Heartbeat(
        cancel_requested=frozenset(row.id for row in rows if row.cancel_requested_at is not None),
        lost=frozenset(set(job_ids) - alive),
    )


def waiting_jobs(session: Session, kind: str) -> int:
    """Jobs of ``kind`` queued or running: a self-rescheduling kind checks it before adding another."""
    waiting = (JobState.queued.value, JobState.running.value)
    found = session.scalar(
        select(func.count()).select_from(Job).where(Job.kind == kind, Job.state.in_(waiting))
    )
    return int(found or 0)
