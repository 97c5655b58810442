"""Datasets' I/O schemas, shared by the API and the SDK (pydantic only).

The declared schema travels as ``schema`` on the wire (``data_schema`` in Python: ``schema`` is a
name pydantic's models keep for themselves).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.data.quality_schemas import QualityCheck
from kiln.data.rules_spec import DatasetRules
from kiln.data.spec import DatasetSchema

# A dataset name travels in references (``dataset:telemetry@7``) and paths: no '@', ':', '/' or spaces.
DATASET_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

DatasetName = Annotated[
    str, Field(pattern=DATASET_NAME, description="unique in its project; letters, digits, . _ -")
]
Description = Annotated[str, Field(max_length=10_000)]


class VersionSource(StrEnum):
    upload = "upload"  # a file sent to the API (CLI, UI, curl)
    sdk = "sdk"  # a DataFrame sent by the SDK
    ingestion = "ingestion"  # appended records made into a version


class IngestionPolicy(InputSchema):
    """When appended rows become a version: after ``every_rows`` rows, ``every_minutes`` after the
    first pending row, whichever comes first; with neither, only on request (``versions/commit``)."""

    every_rows: Annotated[int | None, Field(ge=1, le=10_000_000)] = None
    every_minutes: Annotated[int | None, Field(ge=1, le=7 * 24 * 60)] = None

    @property
    def on_request(self) -> bool:
        return self.every_rows is None and self.every_minutes is None


class DatasetCreate(InputSchema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    name: DatasetName
    project: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    description: Description = ""
    data_schema: DatasetSchema = Field(alias="schema")
    rules: DatasetRules = Field(default_factory=DatasetRules)
    ingestion: IngestionPolicy = Field(default_factory=IngestionPolicy)


class DatasetUpdate(InputSchema):
    """What may change; the next version is judged with it, earlier versions keep theirs."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    description: Description | None = None
    data_schema: DatasetSchema | None = Field(None, alias="schema")
    rules: DatasetRules | None = None
    ingestion: IngestionPolicy | None = None


class DatasetRead(ReadSchema):
    model_config = ConfigDict(from_attributes=True, ser_json_inf_nan="strings", populate_by_name=True)

    id: str
    project_id: str
    name: str
    description: str
    data_schema: DatasetSchema = Field(alias="schema")
    rules: DatasetRules
    latest_version: int | None = Field(None, description="the newest version's number; None before one")
    ingestion: IngestionPolicy = Field(default_factory=IngestionPolicy)
    pending_rows: int = Field(0, description="appended rows not yet in a version")
    created_by: str
    created_at: datetime
    updated_at: datetime


class ValueCount(ReadSchema):
    value: str
    count: int


class ColumnStatistics(ReadSchema):
    """One column of a version: numbers get min/max/mean/std/quantiles, text and categories their
    most frequent values; every column its count, nulls and number of distinct values."""

    name: str
    type: str
    count: int = Field(description="values present (rows minus nulls)")
    nulls: int
    distinct: int
    minimum: float | str | None = None
    maximum: float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] = Field(default_factory=dict, description='e.g. {"p50": 12.5}')
    top: list[ValueCount] = Field(default_factory=list)


class ColumnRetyped(ReadSchema):
    name: str
    before: str
    after: str


class DistributionShift(ReadSchema):
    """A numeric column's move between two versions (KS on the quality baselines' quantile sketches)."""

    column: str
    mean_before: float | None
    mean_after: float | None
    std_before: float | None
    std_after: float | None
    ks_statistic: float | None = None
    p_value: float | None = None


class ChangeSummary(ReadSchema):
    """What changed from one version to another (a version's ``changes``: against its parent)."""

    from_number: int
    to_number: int
    rows_before: int
    rows_after: int
    rows_added: int
    rows_removed: int
    matched_by: Literal["key", "row"] = Field(description="rows compared by the schema's key, or whole rows")
    columns_added: list[str] = Field(default_factory=list)
    columns_removed: list[str] = Field(default_factory=list)
    columns_retyped: list[ColumnRetyped] = Field(default_factory=list)
    shifts: list[DistributionShift] = Field(default_factory=list)


class ReasonCount(ReadSchema):
    check: str
    column: str
    rule: str
    rows: int


class QuarantineSummary(ReadSchema):
    """The rows the rules refused (not in the version): how many, why, and the first few reasons."""

    rows: int = 0
    by_reason: list[ReasonCount] = Field(default_factory=list)
    examples: list[list[str]] = Field(default_factory=list, description="the first rows' reasons")


class QualitySummary(ReadSchema):
    passed: bool
    rows: int
    quarantined: int
    checks: list[QualityCheck]


class DatasetVersionRead(ReadSchema):
    model_config = ConfigDict(from_attributes=True, ser_json_inf_nan="strings", populate_by_name=True)

    id: str
    dataset_id: str
    dataset: str
    project_id: str
    number: int
    ref: str = Field(description="how runs and readers name it: dataset:telemetry@7")
    parent_number: int | None
    content_hash: str = Field(description="sha256 of the canonical Parquet bytes")
    size_bytes: int
    rows: int
    data_schema: DatasetSchema = Field(alias="schema")
    statistics: list[ColumnStatistics]
    changes: ChangeSummary | None
    quality: QualitySummary
    quarantine: QuarantineSummary
    source: VersionSource
    source_file: str
    created_by: str
    created_at: datetime


class DatasetVersionUploaded(DatasetVersionRead):
    created: bool = Field(
        description="False when identical data was already a version (that one is returned)"
    )
