"""Monitoring's I/O: metric series over windows, and requests to (re)compute windows. Pydantic only."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from kiln.core.schemas import InputSchema, ReadSchema


class WindowSize(StrEnum):
    minute = "1m"
    hour = "1h"
    day = "1d"


class MonitoredMetric(StrEnum):
    requests = "requests"
    errors = "errors"
    invalid = "invalid"
    error_rate = "error_rate"
    latency_p50 = "latency_p50"
    latency_p95 = "latency_p95"
    latency_p99 = "latency_p99"
    feedback_rows = "feedback_rows"
    accuracy = "accuracy"
    precision = "precision"
    recall = "recall"
    f1 = "f1"
    auc = "auc"
    mae = "mae"
    rmse = "rmse"
    r2 = "r2"


DeploymentName = Annotated[str, Field(min_length=1, max_length=256)]


class _Range(InputSchema):
    window: WindowSize = WindowSize.hour
    start: datetime | None = Field(None, alias="from", description="ISO 8601; default: `to` minus a day")
    end: datetime | None = Field(None, alias="to", description="ISO 8601; default: now")

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("`from` must be before `to`")
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("give times with a UTC offset (2026-12-01T10:00:00Z), not naive ones")
        return self


class MetricQuery(_Range):
    """``GET /api/v1/monitoring/metrics``: one series per deployment (repeat ``deployment``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    deployment: list[DeploymentName] = Field(min_length=1, max_length=20)
    metric: MonitoredMetric
    version: Annotated[int | None, Field(ge=1)] = Field(
        None, description="one model version's series; default: the deployment as a whole"
    )


class WindowsCompute(_Range):
    """Recompute the windows of a range (after downtime, or to take in late feedback)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    deployment: DeploymentName


class MetricPoint(ReadSchema):
    start: datetime
    end: datetime
    value: float | None = Field(description="None where the metric is undefined on the window")
    samples: int = Field(description="requests for traffic metrics, rows with ground truth for quality")
    model_version_id: str | None
    model_version_number: int | None


class MetricSeries(ReadSchema):
    deployment: str
    metric: MonitoredMetric
    window: WindowSize
    points: list[MetricPoint] = Field(description="computed windows in the range, oldest first")


class MetricSeriesList(ReadSchema):
    start: datetime
    end: datetime
    series: list[MetricSeries]


class WindowsComputed(ReadSchema):
    deployment: str
    window: WindowSize
    windows: int
    rows: int


class DriftQuery(InputSchema):
    """``GET /api/v1/monitoring/drift``: the served inputs of a range against the model's reference."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    deployment: DeploymentName
    start: datetime | None = Field(None, alias="from", description="ISO 8601; default: `to` minus an hour")
    end: datetime | None = Field(None, alias="to", description="ISO 8601; default: now")

    @model_validator(mode="after")
    def _ordered(self) -> DriftQuery:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("`from` must be before `to`")
        return self


class DriftReportCompute(InputSchema):
    """Compute (or recompute) one window's stored drift report now; idempotent."""

    window: Literal["1h", "1d"] = "1h"
    start: datetime = Field(description="the window's start, on its grid (a whole hour or day, UTC)")

    @model_validator(mode="after")
    def _aware(self) -> DriftReportCompute:
        if self.start.tzinfo is None:
            raise ValueError("give times with a UTC offset (2026-12-01T10:00:00Z), not naive ones")
        return self


class FeatureScoreQuery(InputSchema):
    """``GET .../drift-features/{feature}``: one feature's score per stored report."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    window: Literal["1h", "1d"] = "1h"
    start: datetime | None = Field(None, alias="from", description="ISO 8601")
    end: datetime | None = Field(None, alias="to", description="ISO 8601; default: now")
