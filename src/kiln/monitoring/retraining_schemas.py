"""Retraining triggers: the I/O of ``/api/v1/monitoring/retraining``. Pydantic only.

"When deployment ``fraud`` drifts, or one of its alert rules fires, run pipeline ``train_fraud`` with
these parameters, at most once per cooldown (default 6 h) and never while its last run is unfinished."
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, ConfigDict, Field, field_validator

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.monitoring.alert_schemas import NAME_LENGTH, parse_duration

DEFAULT_COOLDOWN_SECONDS = 6 * 3_600
MAX_RULES = 50


class RetrainingCause(StrEnum):
    drift = "drift"  # a stored drift report recommends retraining (``DriftDetected``)
    alert = "alert"  # an alert rule on the deployment starts firing (``AlertFired``)


class RetrainingTriggerCreate(InputSchema):
    deployment: Annotated[str, Field(min_length=1, max_length=128)]
    pipeline: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="a pipeline in the deployment's project"
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="the run's parameters; a pipeline parameter named `deployment` or `retrain_reason` "
        "is filled in when not given",
    )
    on: list[RetrainingCause] = Field(
        default_factory=lambda: [RetrainingCause.drift, RetrainingCause.alert],
        min_length=1,
        description="what fires it: drift, alert or both",
    )
    alert_rules: list[Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]] = Field(
        default_factory=list,
        max_length=MAX_RULES,
        description="names of the deployment's alert rules that fire it; empty: any of its rules",
    )
    cooldown: int = Field(
        DEFAULT_COOLDOWN_SECONDS,
        description="no second run for this long after one started: 0, 30m, 6h, 2d (at most 7d)",
    )
    enabled: bool = True

    @field_validator("cooldown", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return parse_duration(value)


class RetrainingTriggerRead(ReadSchema):
    id: str
    project_id: str
    deployment: str
    pipeline: str = Field(validation_alias=AliasChoices("pipeline_name", "pipeline"))
    parameters: dict[str, Any]
    on_drift: bool
    on_alert: bool
    alert_rules: list[str]
    enabled: bool
    cooldown_seconds: int
    runs_started: int
    last_triggered_at: datetime | None
    last_run_id: str | None
    last_outcome: str | None
    last_outcome_at: datetime | None
    created_by: str
    created_at: datetime


class RetrainingTriggerFilter(InputSchema):
    # It shares the query string with paging (limit, cursor).
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    deployment: Annotated[str | None, Field(max_length=128)] = None
