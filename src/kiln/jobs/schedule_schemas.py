"""Schedule I/O schemas (shared with the SDK): a cron expression in a time zone enqueuing a job.

The expression and the zone are checked here, so a bad one is a 422 naming it before anything is
stored; the job kind is checked by the service (the kinds are the server's registrations).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.jobs.cron import CRON_LENGTH, ZONE_LENGTH, check_cron, check_time_zone
from kiln.jobs.schemas import KIND_LENGTH

SCHEDULE_NAME_LENGTH = 128
# The most jobs one "all" catch-up enqueues after downtime; older missed fires are dropped.
MAX_CATCH_UP_FIRES = 100
MAX_PAYLOAD_BYTES = 64 * 1024


class CatchUp(StrEnum):
    """What a schedule does with the fires it missed while no scheduler ran."""

    skip = "skip"  # none: it waits for its next fire time
    once = "once"  # one job for all of them
    all = "all"  # one job per missed fire (at most MAX_CATCH_UP_FIRES)


Name = Annotated[str, Field(min_length=1, max_length=SCHEDULE_NAME_LENGTH, pattern=r"^[^\x00-\x1f]+$")]
Cron = Annotated[
    str, Field(max_length=CRON_LENGTH, description="five fields (minute hour day month weekday) or @daily")
]
TimeZone = Annotated[str, Field(max_length=ZONE_LENGTH, description="an IANA name, such as Europe/Paris")]


def _small_json(payload: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(payload)) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"the payload is larger than {MAX_PAYLOAD_BYTES // 1024} KiB")
    return payload


class ScheduleCreate(InputSchema):
    name: Name
    cron: Cron
    time_zone: TimeZone = "UTC"
    kind: Annotated[str, Field(min_length=1, max_length=KIND_LENGTH, description="a registered job kind")]
    payload: dict[str, Any] = Field(default_factory=dict, description="the JSON each job is given")
    catch_up: CatchUp = CatchUp.skip
    enabled: bool = True
    project_id: Annotated[str | None, Field(max_length=36)] = Field(
        None, description="the project's id; default: the API key's project"
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)

    @field_validator("payload")
    @classmethod
    def _payload(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _small_json(value)


class ScheduleUpdate(InputSchema):
    """Each given field changes; a new expression or zone (or enabling) recomputes the next fire."""

    name: Name | None = None
    cron: Cron | None = None
    time_zone: TimeZone | None = None
    payload: dict[str, Any] | None = None
    catch_up: CatchUp | None = None
    enabled: bool | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_time_zone(value)

    @field_validator("payload")
    @classmethod
    def _payload(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _small_json(value)


class ScheduleRead(ReadSchema):
    id: str
    project_id: str
    name: str
    cron: str
    time_zone: str
    kind: str
    payload: dict[str, Any]
    catch_up: CatchUp
    enabled: bool
    next_fire_at: datetime | None = Field(description="UTC; empty when disabled or it never fires again")
    last_fired_at: datetime | None = Field(description="the fire time of the last job it enqueued")
    last_job_id: str | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = Field(default=None, description="the user whose jobs it enqueues")


class ScheduleFilter(InputSchema):
    model_config = InputSchema.model_config | {"extra": "ignore"}

    project_id: Annotated[str | None, Field(max_length=36)] = None
    kind: Annotated[str | None, Field(max_length=KIND_LENGTH)] = None
    enabled: bool | None = None
