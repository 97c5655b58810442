"""The queue's tables: one row per job (its state machine), one per attempt to run it, and the
cron schedules that enqueue jobs.

Users and projects are auth's tables: referenced by foreign key name only, never imported. Claiming
reads ``(state, run_after)`` for queued jobs and ``(state, lease_expires_at)`` for running jobs
whose worker died; finished jobs never enter either range.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType
from kiln.core.ids import utcnow
from kiln.jobs.cron import CRON_LENGTH, ZONE_LENGTH
from kiln.jobs.schedule_schemas import SCHEDULE_NAME_LENGTH, CatchUp
from kiln.jobs.schemas import KIND_LENGTH, WORKER_ID_LENGTH, JobState


class Job(IdMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_due", "state", "run_after"),
        Index("ix_jobs_lease", "state", "lease_expires_at"),
        Index("ix_jobs_kind_created", "kind", "created_at"),
        # One job per fire of a schedule, whatever the schedulers do (NULLs never collide).
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_jobs_schedule_fire"),
    )

    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # NULL: not project-owned (system work); only administrators see it.
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.queued.value)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(WORKER_ID_LENGTH))
    lease_expires_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    cancel_requested_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_traceback: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    enqueued_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when a schedule enqueued it: which one, and the fire time it stands for.
    schedule_id: Mapped[str | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    scheduled_for: Mapped[datetime | None]


class JobAttempt(Base):
    __tablename__ = "job_attempts"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    worker_id: Mapped[str] = mapped_column(String(WORKER_ID_LENGTH))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


class Schedule(IdMixin, Base):
    """A cron expression in a time zone that enqueues a job of ``kind`` with ``payload`` at each fire.

    ``next_fire_at`` is the claim: a scheduler fires it by moving it forward with a conditional
    update (``WHERE next_fire_at = :seen``) in the transaction that enqueues the jobs, so a fire is
    taken once however many schedulers tick. Due schedules are read by ``(enabled, next_fire_at)``.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="uq_schedules_project_name"),
        Index("ix_schedules_due", "enabled", "next_fire_at"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(SCHEDULE_NAME_LENGTH))
    cron: Mapped[str] = mapped_column(String(CRON_LENGTH))
    time_zone: Mapped[str] = mapped_column(String(ZONE_LENGTH))
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    catch_up: Mapped[str] = mapped_column(String(8), default=CatchUp.skip.value)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # NULL: it never fires again (an expression with no future date).
    next_fire_at: Mapped[datetime | None]
    last_fired_at: Mapped[datetime | None]
    last_job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
