"""The scheduler's tick: fire every due schedule once, however many schedulers tick at the same time.

Each due schedule is fired in a transaction of its own, in two statements: a conditional update
moves ``next_fire_at`` forward (``WHERE id = :id AND next_fire_at = :seen AND enabled``) and, only
if it changed one row, the fire's jobs are enqueued in the same transaction. A second scheduler
that read the same due row updates nothing (PostgreSQL makes it wait for the first one's commit,
then finds ``next_fire_at`` moved; SQLite runs one writer at a time) and enqueues nothing. On
PostgreSQL the due row is also read ``FOR UPDATE SKIP LOCKED``, so concurrent schedulers share out
the due schedules instead of queueing behind one another. A unique (schedule, fire time) on jobs
keeps the promise even if this logic were wrong.

Missed fires (no scheduler ran at their time: downtime) follow the schedule's catch-up policy. A
fire is *on time* within ``ON_TIME`` of its moment, else *missed*:
- ``skip``: missed fires enqueue nothing; on-time ones run;
- ``once``: one job, for the latest due fire;
- ``all``: one job per due fire, the latest ``MAX_CATCH_UP_FIRES`` of them.
Either way the schedule then waits for its first fire after now. The clock is a parameter, so
tests drive ticks by hand and never wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, cast

import structlog
from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.jobs.cron import fires_after, fires_until, next_fire
from kiln.jobs.kinds import find_job_kind
from kiln.jobs.models import Schedule
from kiln.jobs.queue import enqueue
from kiln.jobs.schedule_schemas import MAX_CATCH_UP_FIRES, CatchUp

log = structlog.get_logger(__name__)

_schedules = cast(Table, Schedule.__table__)
# A fire this late is "missed" (its catch-up policy decides); sooner, it is simply run.
ON_TIME = timedelta(seconds=60)
# Schedules fired by one tick at most: a backlog is worked off over the following ticks.
MAX_PER_TICK = 500

Clock = Callable[[], datetime]

_DUE = (
    select(
        _schedules.c.id,
        _schedules.c.project_id,
        _schedules.c.cron,
        _schedules.c.time_zone,
        _schedules.c.kind,
        _schedules.c.payload,
        _schedules.c.catch_up,
        _schedules.c.next_fire_at,
        _schedules.c.created_by,
    )
    .order_by(_schedules.c.next_fire_at)
    .limit(1)
    .with_for_update(skip_locked=True)
)


@dataclass(frozen=True, slots=True)
class Fired:
    """What one tick did: schedules fired and jobs enqueued."""

    schedules: int = 0
    jobs: int = 0


def due_fires(row: Any, now: datetime) -> list[datetime]:
    """The fire times in ``[next_fire_at, now]``, oldest first; only the latest
    ``MAX_CATCH_UP_FIRES`` when there were more (a minutely schedule after a week away must not
    walk ten thousand fire times, nor enqueue them)."""
    first: datetime = row.next_fire_at
    fires = [first]
    for moment in islice(fires_after(row.cron, row.time_zone, first), MAX_CATCH_UP_FIRES):
        if moment > now:
            return fires
        fires.append(moment)
    latest = islice(fires_until(row.cron, row.time_zone, now), MAX_CATCH_UP_FIRES)
    return sorted(moment for moment in latest if moment >= first)


def chosen_fires(fires: list[datetime], policy: CatchUp, now: datetime) -> list[datetime]:
    """Which of the due fires enqueue a job, by the catch-up policy."""
    if policy is CatchUp.once:
        return fires[-1:]
    if policy is CatchUp.all:
        return fires
    return [moment for moment in fires if now - moment <= ON_TIME]


def fire_due_schedules(db: Database, *, now: datetime | None = None, clock: Clock = utcnow) -> Fired:
    """One tick: fire every schedule due at ``now`` (default: the clock). Safe to run in any number of
    processes at once: each fire enqueues its jobs exactly once."""
    moment = now or clock()
    fired = jobs = 0
    for _ in range(MAX_PER_TICK):
        with db.unit_of_work() as session:
            outcome = _fire_one(session, moment)
        if outcome is None:
            break
        if outcome >= 0:
            fired += 1
            jobs += outcome
    return Fired(schedules=fired, jobs=jobs)


def _fire_one(session: Session, now: datetime) -> int | None:
    """Fire the most overdue schedule: the jobs enqueued, -1 if another scheduler took it first,
    ``None`` when nothing is due."""
    row = next_due(session, now)
    if row is None:
        return None
    enqueued = fire(session, row, now)
    return -1 if enqueued is None else enqueued


def next_due(session: Session, now: datetime) -> Any:
    """The most overdue enabled schedule (locked, and skipping those locked, on PostgreSQL)."""
    return session.execute(
        _DUE.where(_schedules.c.enabled.is_(True), _schedules.c.next_fire_at <= now)
    ).first()


def fire(session: Session, row: Any, now: datetime) -> int | None:
    """Claim the fire ``row`` saw and enqueue its jobs, in the session's transaction: the number of
    jobs, or ``None`` when the fire was no longer there to take (another scheduler fired it, or the
    schedule was disabled or changed since ``row`` was read)."""
    try:
        fires = due_fires(row, now)
        following = next_fire(row.cron, row.time_zone, now)
    except (ValueError, KeyError):  # a zone the zone database no longer has, an expression croniter
        # no longer reads: stop this schedule (it shows as never firing) rather than every tick
        log.exception("jobs.schedule_unreadable", schedule_id=row.id, cron=row.cron, time_zone=row.time_zone)
        return _stop(session, row)
    kind = find_job_kind(row.kind)
    chosen = chosen_fires(fires, CatchUp(row.catch_up), now) if kind is not None else []
    values: dict[str, Any] = {"next_fire_at": following}
    if chosen:
        values["last_fired_at"] = chosen[-1]
    claimed = session.connection().execute(
        update(_schedules)
        .where(
            _schedules.c.id == row.id,
            _schedules.c.next_fire_at == row.next_fire_at,
            _schedules.c.enabled.is_(True),
        )
        .values(**values)
    )
    if claimed.rowcount != 1:
        return None
    job_ids = [job_id for moment in chosen if (job_id := _enqueue_fire(session, row, moment))]
    if job_ids:
        session.execute(update(_schedules).where(_schedules.c.id == row.id).values(last_job_id=job_ids[-1]))
    if kind is None:
        log.error("jobs.schedule_kind_unknown", schedule_id=row.id, kind=row.kind)
    missed = len(fires) - len(chosen)
    log.info(
        "jobs.schedule_fired",
        schedule_id=row.id,
        kind=row.kind,
        jobs=len(job_ids),
        missed=missed,
        next_fire_at=following.isoformat() if following else None,
    )
    return len(job_ids)


def _stop(session: Session, row: Any) -> int | None:
    stopped = session.connection().execute(
        update(_schedules)
        .where(_schedules.c.id == row.id, _schedules.c.next_fire_at == row.next_fire_at)
        .values(next_fire_at=None)
    )
    return 0 if stopped.rowcount == 1 else None


def _enqueue_fire(session: Session, row: Any, moment: datetime) -> str | None:
    """The fire's job, or ``None`` if this fire already has one (the unique guard on jobs)."""
    try:
        with session.begin_nested():
            return enqueue(
                session,
                row.kind,
                row.payload,
                project_id=row.project_id,
                enqueued_by=row.created_by,
                schedule_id=row.id,
                scheduled_for=moment,
                # Runnable from its fire time, whoever's clock fired it (a test's, a late scheduler's).
                run_after=moment,
            )
    except IntegrityError:
        log.warning("jobs.schedule_fire_taken", schedule_id=row.id, scheduled_for=moment.isoformat())
        return None
