"""Prediction log and feedback I/O: what the API answers and accepts (pydantic only, SDK-safe)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from kiln.core.schemas import InputSchema, ReadSchema

# One feedback call carries at most this many outcomes (automation sends them in bulk).
MAX_FEEDBACK_BATCH = 1000
REQUEST_ID_LENGTH = 36


class PredictionStatus(StrEnum):
    ok = "ok"
    # The request was refused before the model saw it (a 4xx: bad input).
    invalid = "invalid"
    # The model or the server failed (a 5xx).
    error = "error"


class FeedbackStatus(StrEnum):
    recorded = "recorded"
    # An earlier feedback for the same request id (in the database or earlier in the batch) was replaced.
    replaced = "replaced"
    # No prediction with this request id that the caller may see: nothing was stored for it.
    unknown = "unknown"


class PredictionFilter(InputSchema):
    """Which predictions to list or export; each given field narrows the match (all must hold)."""

    # It shares the query string with paging (limit, cursor).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)

    deployment: Annotated[str | None, Field(max_length=256, description="deployment name")] = None
    model: Annotated[str | None, Field(max_length=256, description="registered model name")] = None
    version: Annotated[
        str | None,
        Field(max_length=36, description="model version: its number (3) or its id"),
    ] = None
    status: PredictionStatus | None = None
    from_: Annotated[
        datetime | None, Field(alias="from", description="at or after this time (UTC unless it says)")
    ] = None
    to: Annotated[datetime | None, Field(description="before this time (UTC unless it says)")] = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # ``?deployment=`` (an empty form field) filters nothing.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a date and time like 2024-05-01T13:30") from None

    @field_validator("from_", "to", mode="after")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _range(self) -> PredictionFilter:
        if self.from_ is not None and self.to is not None and self.from_ >= self.to:
            raise ValueError(f"'from' ({self.from_.isoformat()}) must be before 'to' ({self.to.isoformat()})")
        return self

    def query_params(self) -> dict[str, str]:
        """The filter as query parameters (the SDK and the UI's export links write these)."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else str(value)
            for key, value in self.model_dump(exclude_none=True, by_alias=True).items()
        }


class FeedbackIn(InputSchema):
    """The actual outcome of one prediction, and optional business values of it."""

    actual: JsonValue = Field(description="the true outcome: a label, a number, a list, an object")
    values: dict[str, JsonValue] | None = Field(
        default=None, description='business values of the outcome, e.g. {"amount": 120.5}'
    )

    @field_validator("actual")
    @classmethod
    def _not_null(cls, value: JsonValue) -> JsonValue:
        if value is None:
            raise ValueError("actual is required: give the true outcome (a label, a number, ...), not null")
        return value


class FeedbackItem(FeedbackIn):
    request_id: str = Field(min_length=1, max_length=REQUEST_ID_LENGTH)


class FeedbackRead(ReadSchema):
    actual: Any
    values: dict[str, Any] | None = None
    received_at: datetime
    received_by: str


class FeedbackRecorded(FeedbackRead):
    """The answer to one feedback: what is stored now, and whether it replaced an earlier one."""

    request_id: str
    replaced: bool


class FeedbackItemResult(ReadSchema):
    request_id: str
    status: FeedbackStatus


class FeedbackBatchResult(ReadSchema):
    """Known request ids are stored, unknown ones reported (the batch is partially accepted)."""

    recorded: int = Field(description="outcomes stored, replacements included")
    replaced: int = Field(description="of those, how many replaced an earlier feedback")
    unknown: list[str] = Field(description="request ids with no prediction the caller may see")
    items: list[FeedbackItemResult] = Field(description="one per item sent, in order")


class PredictionRead(ReadSchema):
    request_id: str
    deployment: str
    deployment_id: str | None = None
    project_id: str
    model_name: str
    model_version_id: str | None = None
    model_version_number: int | None = None
    inputs: Any = None
    outputs: Any = None
    latency_ms: float
    status: PredictionStatus
    error: str | None = None
    caller: str
    caller_user_id: str | None = None
    created_at: datetime
    feedback: FeedbackRead | None = None


class InferenceErrorBody(BaseModel):
    """Every error of the Open Inference Protocol routes: ``{"error": "..."}`` saying what to fix."""

    error: str
