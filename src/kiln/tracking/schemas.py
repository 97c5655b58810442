"""Tracking I/O schemas, shared by the API and the SDK."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.tracking.environment import validated as validated_environment

Name = Annotated[str, Field(min_length=1, max_length=256)]
Key = Annotated[str, Field(min_length=1, max_length=250, pattern=r"^[^\x00-\x1f]+$")]
TagValue = Annotated[str, Field(max_length=8000)]
Tags = Annotated[dict[Key, TagValue], Field(max_length=500)]

MAX_BATCH_METRICS = 100_000
# Epoch milliseconds a datetime can hold: 1970 up to the end of year 9999.
MAX_EPOCH_MS = 253_402_300_799_999


class RunStatus(StrEnum):
    running = "running"
    finished = "finished"
    failed = "failed"
    killed = "killed"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.running


# -- experiments ------------------------------------------------------------------------------


class ExperimentCreate(InputSchema):
    name: Name
    # A project id or name; default: the API key's project, else "default".
    project: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    description: Annotated[str, Field(max_length=10_000)] = ""
    tags: Tags = Field(default_factory=dict)


class ExperimentUpdate(InputSchema):
    description: Annotated[str, Field(max_length=10_000)] | None = None
    tags: Tags | None = None


class ExperimentRead(ReadSchema):
    id: str
    project_id: str
    name: str
    description: str
    tags: dict[str, str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    run_count: int = 0


# -- runs ------------------------------------------------------------------------------------


# The SDK logs inputs added after run creation as tags `kiln.input.<name>` (JSON descriptions).
INPUT_TAG_PREFIX = "kiln.input."
INPUT_FIELDS = ("kind", "name", "version", "digest", "uri")


class RunInputCreate(InputSchema):
    kind: Annotated[str, Field(max_length=32)] = "dataset"
    name: Name
    version: Annotated[str, Field(max_length=128)] = ""
    digest: Annotated[str, Field(max_length=128)] = ""
    uri: Annotated[str, Field(max_length=2048)] = ""


class RunInputRead(ReadSchema):
    kind: str
    name: str
    version: str
    digest: str
    uri: str


class RunCreate(InputSchema):
    experiment_id: str
    name: Annotated[str, Field(max_length=256)] | None = None
    parent_run_id: str | None = None
    source: Annotated[str, Field(max_length=1024)] = ""
    start_time: datetime | None = None
    tags: Tags = Field(default_factory=dict)
    environment: dict[str, Any] = Field(default_factory=dict)
    inputs: Annotated[list[RunInputCreate], Field(max_length=100)] = Field(default_factory=list)

    @field_validator("environment", mode="after")
    @classmethod
    def _checked_environment(cls, value: dict[str, Any]) -> dict[str, Any]:
        # JSON-safe for PostgreSQL (no bare NaN), bounded depth, known keys in shape, no unsafe pins.
        return validated_environment(value)


class RunUpdate(InputSchema):
    status: RunStatus | None = None
    end_time: datetime | None = None
    name: Annotated[str, Field(min_length=1, max_length=256)] | None = None


class MetricIn(InputSchema):
    key: Key
    # NaN and infinities are legitimate training outcomes and are kept as sent.
    value: float
    step: Annotated[int, Field(ge=-(2**62), le=2**62)] = 0
    # Bounded so it fits a 64-bit column and converts to a datetime (the end of year 9999).
    timestamp: (
        Annotated[int, Field(ge=0, le=MAX_EPOCH_MS, description="milliseconds since the epoch")] | None
    ) = None


class ParamIn(InputSchema):
    key: Key
    value: Annotated[str, Field(max_length=8000)]

    @field_validator("value", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        # Params are recorded as text; numbers and booleans arrive as their usual spelling.
        if isinstance(value, bool | int | float):
            return str(value)
        return value


class TagIn(InputSchema):
    key: Key
    value: TagValue


class LogBatch(InputSchema):
    metrics: Annotated[list[MetricIn], Field(max_length=MAX_BATCH_METRICS)] = Field(default_factory=list)
    params: Annotated[list[ParamIn], Field(max_length=1000)] = Field(default_factory=list)
    tags: Annotated[list[TagIn], Field(max_length=1000)] = Field(default_factory=list)


class BatchResult(ReadSchema):
    metrics: int
    params: int
    tags: int


class RunRead(ReadSchema):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None
    parent_run_id: str | None
    user: str
    source: str
    artifact_uri: str
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    inputs: list[RunInputRead] = Field(default_factory=list)


class RunDetail(RunRead):
    environment: dict[str, Any] = Field(default_factory=dict)


class MetricPoint(ReadSchema):
    step: int
    value: float
    timestamp: int
    # Set when the point stands for a bucket of several points (downsampled history).
    min: float | None = None
    max: float | None = None
    count: int = 1


class MetricHistory(ReadSchema):
    run_id: str
    key: str
    total_points: int
    downsampled: bool
    points: list[MetricPoint]


class ArtifactRead(ReadSchema):
    path: str
    size: int
    sha256: str
    created_at: datetime


class RunComparison(ReadSchema):
    runs: list[RunRead]
    param_keys: list[str]
    metric_keys: list[str]
    differing_params: list[str]
    # Per metric: the id of the run with the best (highest) final value, for highlighting.
    best_by_metric: dict[str, str]


class Reproduction(ReadSchema):
    run_id: str
    run_name: str
    experiment: str
    params: dict[str, str]
    inputs: list[RunInputRead]
    source: str
    command: list[str]
    git: dict[str, Any]
    python: str
    platform: str
    packages: dict[str, str]
    # Recorded entries left out of the script (e.g. a package pin that is not PEP 508/440).
    warnings: list[str] = Field(default_factory=list)
    # Generated by the server, the same for the CLI and the UI: review before running.
    requirements: str = ""
    script: str = ""
