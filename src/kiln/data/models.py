"""Data tables: datasets and their immutable, numbered versions.

A dataset (name unique in its project) declares its schema and rules. A version is content-addressed:
``content_hash`` is the sha256 of its canonical Parquet bytes (``data/canonical.py``), unique per
dataset, so the same data uploaded twice is one version. Everything a reader needs to judge a
version without opening it (statistics, the change summary against its parent, the quality report,
what was quarantined) is kept on the row as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType, TimestampMixin
from kiln.core.ids import utcnow


class Dataset(IdMixin, TimestampMixin, Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    # A DatasetSchema and DatasetRules as JSON (kiln.data.spec, kiln.data.rules_spec).
    declared_schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The last version number handed out; taken with one atomic increment, so numbers never repeat.
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    # When appended rows become a version (kiln.data.schemas.IngestionPolicy as JSON).
    # The server defaults are migration 0020's (it filled existing rows): a database created from
    # these models must equal a migrated one.
    ingestion: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    # Rows appended and not yet in a version. Every append and commit changes it with one atomic
    # update first: that update is the dataset's ingestion lock (see kiln.data.ingestion).
    pending_rows: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))


class DatasetVersion(IdMixin, Base):
    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number"),
        UniqueConstraint("dataset_id", "content_hash"),
    )

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("dataset_versions.id", ondelete="SET NULL"))
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    # The schema the version was judged and stored with (the dataset's may change later).
    stored_schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    statistics: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    quality: Mapped[dict[str, Any]] = mapped_column(JSONType)
    quality_passed: Mapped[bool] = mapped_column(Boolean)
    # Rows the rules refused: their count and reasons (the rows themselves: QuarantinedRow).
    quarantine: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    artifact_key: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(16))
    source_file: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingBatch(IdMixin, Base):
    """One accepted append, waiting to become part of a version (its rows as JSON records)."""

    __tablename__ = "dataset_pending_batches"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    records: Mapped[list[Any]] = mapped_column(JSONType)
    row_count: Mapped[int] = mapped_column(Integer)
    # records (JSON rows), file (an uploaded file), release (rows released from quarantine)
    source: Mapped[str] = mapped_column(String(16))
    source_file: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantinedRow(IdMixin, Base):
    """A row the rules refused, as it came in, with every reason; a reviewer releases or discards it."""

    __tablename__ = "dataset_quarantine"
    __table_args__ = (Index("ix_dataset_quarantine_dataset_status", "dataset_id", "status", "id"),)

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    # Where it came from: the append (its pending batch's id) or upload, and the version it was judged into.
    batch_id: Mapped[str | None] = mapped_column(String(36))
    version_id: Mapped[str | None] = mapped_column(ForeignKey("dataset_versions.id", ondelete="SET NULL"))
    version_number: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    row_number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    reasons: Mapped[list[Any]] = mapped_column(JSONType)
    # pending, released, discarded: changed once, with a conditional update (WHERE status = 'pending').
    status: Mapped[str] = mapped_column(String(16), default="pending")
    fixed: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(256), default="")
    decided_by_user_id: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantineReason(IdMixin, Base):
    """One reason of a quarantined row, by check, column and rule: what the review list filters on."""

    __tablename__ = "dataset_quarantine_reasons"
    __table_args__ = (
        Index("ix_dataset_quarantine_reasons_rule", "dataset_id", "rule"),
        Index("ix_dataset_quarantine_reasons_column", "dataset_id", "column"),
    )

    row_id: Mapped[str] = mapped_column(ForeignKey("dataset_quarantine.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(36))
    check: Mapped[str] = mapped_column(String(16))
    column: Mapped[str] = mapped_column(String(512))
    rule: Mapped[str] = mapped_column(String(128))
