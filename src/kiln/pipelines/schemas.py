"""Pipelines' I/O schemas: registering, versions and their diff, runs and their steps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.pipelines.spec import PipelineSpec


class RunState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class StepState(StrEnum):
    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"


FINISHED_RUN_STATES = frozenset({RunState.succeeded, RunState.failed, RunState.cancelled})


class PipelineRegister(InputSchema):
    spec: PipelineSpec
    project: str | None = Field(default=None, description="project id or name; default: your default project")


class PipelineRead(ReadSchema):
    id: str
    project_id: str
    name: str
    description: str
    latest_version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class PipelineVersionRead(ReadSchema):
    id: str
    pipeline: str
    project_id: str
    number: int
    content_hash: str
    spec: PipelineSpec
    created_by: str
    created_at: datetime


class PipelineRegistered(PipelineVersionRead):
    # False: the definition was the latest version's already (no new version).
    created: bool


class FieldChange(ReadSchema):
    before: Any = None
    after: Any = None


class StepChange(ReadSchema):
    name: str
    changes: dict[str, FieldChange]


class PipelineDiff(ReadSchema):
    pipeline: str
    from_version: int
    to_version: int
    steps_added: list[str]
    steps_removed: list[str]
    steps_changed: list[StepChange]
    parameters_added: list[str]
    parameters_removed: list[str]
    parameters_changed: list[StepChange]
    description: FieldChange | None = None


class RunCreate(InputSchema):
    parameters: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1, description="default: the latest version")
    project: str | None = None


class StepRunRead(ReadSchema):
    name: str
    function: str
    state: StepState
    position: int
    attempts: int
    max_attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    wall_seconds: float | None
    cpu_seconds: float | None
    peak_memory_bytes: int | None
    output: dict[str, Any] | None
    cached: bool
    error: str | None
    traceback: str | None


class PipelineRunRead(ReadSchema):
    id: str
    pipeline: str
    project_id: str
    version: int
    state: RunState
    parameters: dict[str, Any]
    job_id: str | None
    tracking_run_id: str | None
    triggered_by: str
    error: str | None
    traceback: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str
    steps: list[StepRunRead] = Field(default_factory=list)


class StepLog(ReadSchema):
    step: str
    state: StepState
    lines: list[str]


class TriggerCreate(InputSchema):
    dataset: str = Field(min_length=1, max_length=128, description="dataset name in the pipeline's project")
    parameters: dict[str, Any] = Field(default_factory=dict)


class TriggerRead(ReadSchema):
    id: str
    pipeline_id: str
    project_id: str
    dataset_name: str
    parameters: dict[str, Any]
    enabled: bool
    created_by: str
    created_at: datetime
