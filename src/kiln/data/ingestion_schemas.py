"""Appending rows, the ingestion policy, and the quarantine review: I/O schemas (pydantic only)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from kiln.core.schemas import InputSchema, ReadSchema
from kiln.data.schemas import DatasetVersionRead, IngestionPolicy

# A JSON cell: what a CSV or a DataFrame cell can be. Nested values are refused per row and column;
# an integer beyond 64 bits would wrap around in the frame, so it is refused here, naming its place.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Cell = str | Int64 | float | bool | None
MAX_APPEND_RECORDS = 100_000
MAX_DECISION_ROWS = 1_000


class RecordsAppend(InputSchema):
    records: Annotated[list[dict[str, Cell]], Field(min_length=1, max_length=MAX_APPEND_RECORDS)]


class AppendSource(StrEnum):
    records = "records"  # JSON rows to /records
    file = "file"  # a CSV or Parquet file to /records/file
    release = "release"  # rows a reviewer released from quarantine


class AppendResult(ReadSchema):
    """An accepted append: staged whole; ``version`` is the one the policy made from it, if any."""

    batch_id: str
    rows: int
    pending_rows: int = Field(description="rows waiting for the next version, this append's included")
    version: DatasetVersionRead | None = None


class PendingRead(ReadSchema):
    dataset: str
    pending_rows: int
    batches: int
    oldest: datetime | None
    ingestion: IngestionPolicy


class QuarantineStatus(StrEnum):
    pending = "pending"
    released = "released"
    discarded = "discarded"


class QuarantinedRowRead(ReadSchema):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset: str
    row_number: int = Field(description="the row's position (from 0) in its append or upload")
    data: dict[str, Any] = Field(description="the row as it came in")
    reasons: list[str]
    status: QuarantineStatus
    source: str
    batch_id: str | None = Field(description="the append it came in, for appended rows")
    version_number: int | None = Field(description="the version it was judged for (and left out of)")
    fixed: dict[str, Any] | None = Field(description="the values it was released with")
    note: str
    decided_by: str
    decided_at: datetime | None
    created_at: datetime


class QuarantineFilter(InputSchema):
    status: QuarantineStatus | None = QuarantineStatus.pending
    rule: str | None = Field(None, description="a rule's name")
    check: str | None = Field(None, description="type, null, range, category, duplicate, expression")
    column: str | None = None
    version: int | None = Field(None, ge=1)
    batch_id: str | None = None


RowIds = Annotated[list[str], Field(min_length=1, max_length=MAX_DECISION_ROWS)]
Note = Annotated[str, Field(max_length=2_000)]


class QuarantineRelease(InputSchema):
    """Release rows into the next version; ``fixes`` maps a row's id to the values that replace its
    own (other columns stay as they came). The rules judge them again."""

    ids: RowIds
    fixes: dict[str, dict[str, Cell]] = Field(default_factory=dict)
    note: Note = ""


class QuarantineDiscard(InputSchema):
    ids: RowIds
    note: Note = ""


class QuarantineDecided(ReadSchema):
    status: QuarantineStatus
    rows: int
    ids: list[str]
    batch_id: str | None = Field(None, description="released rows: the append they were staged as")
    version: DatasetVersionRead | None = Field(None, description="the version the policy made from them")
