"""Job I/O schemas (shared with the SDK: no SQLAlchemy, no FastAPI)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from kiln.core.schemas import InputSchema, ReadSchema

KIND_LENGTH = 64
WORKER_ID_LENGTH = 128


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


# A person may retry these; nothing else changes them again.
RETRYABLE_STATES = frozenset({JobState.failed, JobState.cancelled})


class AttemptOutcome(StrEnum):
    succeeded = "succeeded"
    failed = "failed"
    # The worker stopped heartbeating (it died); another worker took the job over.
    lost = "lost"
    timed_out = "timed_out"
    cancelled = "cancelled"
    # The worker stopped cleanly before the handler finished and put the job back.
    released = "released"


class JobFilter(InputSchema):
    """Which jobs to list; each given field narrows the match."""

    # It shares the query string with paging (limit, cursor).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    state: JobState | None = None
    kind: Annotated[str | None, Field(max_length=KIND_LENGTH)] = None
    project_id: Annotated[str | None, Field(max_length=36, description="only this project's jobs")] = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class JobAttemptRead(ReadSchema):
    number: int
    worker_id: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: AttemptOutcome | None = Field(default=None, description="empty while the attempt runs")
    error: str | None = None


class JobRead(ReadSchema):
    id: str
    kind: str
    project_id: str | None = None
    state: JobState
    priority: int
    attempts: int = Field(description="attempts started so far")
    max_attempts: int
    run_after: datetime = Field(description="not claimed before this time (a retry's backoff)")
    lease_owner: str | None = Field(default=None, description="the worker running it")
    lease_expires_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    last_error: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    enqueued_by: str | None = Field(default=None, description="the user who asked for it")
    schedule_id: str | None = Field(default=None, description="the schedule that enqueued it")
    scheduled_for: datetime | None = Field(default=None, description="the schedule's fire time it stands for")


class JobDetail(JobRead):
    """One job with what it was given, its last traceback and every attempt."""

    payload: dict[str, Any]
    last_traceback: str | None = None
    attempt_history: list[JobAttemptRead] = Field(default_factory=list)
