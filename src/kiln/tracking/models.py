"""Tracking tables.

Metric history is append-only in ``metrics``; ``latest_metrics`` keeps one row per run and key so
listing, sorting and filtering runs never scans history. A NaN metric is stored as a NULL value
(SQL aggregates then skip it, which is what a chart's min/max wants); infinities are stored as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from kiln.core.db import Base, IdMixin, JSONType, TimestampMixin

# SQLite only autoincrements an INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Experiment(IdMixin, TimestampMixin, Base):
    __tablename__ = "experiments"
    # Names are unique within a project, so teams can each have their own "churn".
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[str] = mapped_column(String(256), default="")


class Run(IdMixin, Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_experiment_start", "experiment_id", "start_time"),
        Index("ix_runs_experiment_status", "experiment_id", "status"),
    )

    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="running")
    start_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    parent_run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), index=True)
    user: Mapped[str] = mapped_column(String(256), default="")
    source: Mapped[str] = mapped_column(String(1024), default="")
    artifact_uri: Mapped[str] = mapped_column(String(2048), default="")
    # Large and rarely needed in listings: loaded only when asked for.
    environment: Mapped[dict[str, Any]] = deferred(mapped_column(JSONType, default=dict))

    params: Mapped[list[Param]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql", order_by="Param.key"
    )
    tags: Mapped[list[RunTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql", order_by="RunTag.key"
    )
    latest_metrics: Mapped[list[LatestMetric]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql", order_by="LatestMetric.key"
    )
    inputs: Mapped[list[RunInput]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql", order_by="RunInput.id"
    )


class Param(Base):
    __tablename__ = "params"
    __table_args__ = (Index("ix_params_key_value", "key", "value"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(8000))


class RunTag(Base):
    __tablename__ = "run_tags"
    __table_args__ = (Index("ix_run_tags_key_value", "key", "value"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(8000))


class Metric(Base):
    __tablename__ = "metrics"
    # Covers the history queries, so a chart over a long history never touches the table.
    __table_args__ = (Index("ix_metrics_run_key_step", "run_id", "key", "step", "timestamp_ms", "value"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)


class LatestMetric(Base):
    __tablename__ = "latest_metrics"
    __table_args__ = (Index("ix_latest_metrics_key_value", "key", "value"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)


class RunInput(Base):
    """A dataset (or other input) a run consumed, for lineage and reproduction."""

    __tablename__ = "run_inputs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="dataset")
    name: Mapped[str] = mapped_column(String(256))
    version: Mapped[str] = mapped_column(String(128), default="")
    digest: Mapped[str] = mapped_column(String(128), default="")
    uri: Mapped[str] = mapped_column(String(2048), default="")


class RunArtifact(Base):
    __tablename__ = "run_artifacts"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    # The store key of this version's bytes: new for every upload, never overwritten.
    object_key: Mapped[str] = mapped_column(String(1100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
