"""Pipelines' tables: pipelines, their numbered versions (the spec as JSON), runs and step runs.

A version keeps the spec and its sha256 (``PipelineSpec.content_hash``): registering the latest
definition again is the same version, a changed one the next number. A run records the version it
ran and its parameters; each step of it has a row that is its durable state (pending, running,
succeeded, failed, skipped) with its timings, resources, output (a stored artifact) and log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType, TimestampMixin
from kiln.core.ids import utcnow


class Pipeline(IdMixin, TimestampMixin, Base):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    # The last version number handed out; taken with one atomic increment.
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))


class PipelineVersion(IdMixin, Base):
    __tablename__ = "pipeline_versions"
    __table_args__ = (UniqueConstraint("pipeline_id", "number"),)

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PipelineRun(IdMixin, Base):
    __tablename__ = "pipeline_runs"
    __table_args__ = (Index("ix_pipeline_runs_pipeline_created", "pipeline_id", "created_at"),)

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(36))
    # The tracking run that shows this run's parameters and outcome (kiln.pipelines.tracking_link).
    tracking_run_id: Mapped[str | None] = mapped_column(String(36))
    # What started it: "manual" (the API, the SDK, the CLI) or "dataset:<name>@<number>" (a trigger).
    triggered_by: Mapped[str] = mapped_column(String(300), default="manual")
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))


class PipelineStepRun(IdMixin, Base):
    __tablename__ = "pipeline_step_runs"
    __table_args__ = (
        UniqueConstraint("run_id", "name"),
        Index("ix_pipeline_step_runs_cache", "cache_key", "state"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    # The step's place in the run's dependency order (for listing).
    position: Mapped[int] = mapped_column(Integer)
    function: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    wall_seconds: Mapped[float | None] = mapped_column(Float)
    cpu_seconds: Mapped[float | None] = mapped_column(Float)
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # {"format": "json"|"parquet", "key", "sha256", "size"} of the stored output.
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    cache_key: Mapped[str | None] = mapped_column(String(64))
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    # Timestamped lines the step printed or logged, every attempt's, appended as attempts end.
    log: Mapped[str] = mapped_column(Text, default="")


class PipelineTrigger(IdMixin, TimestampMixin, Base):
    """Run the pipeline when a new version of dataset ``dataset_name`` (in its project) arrives."""

    __tablename__ = "pipeline_triggers"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "dataset_name"),
        Index("ix_pipeline_triggers_dataset", "project_id", "dataset_name"),
    )

    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    dataset_name: Mapped[str] = mapped_column(String(128))
    # The run's parameters (checked against the latest version when the trigger fires).
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(256), default="")
