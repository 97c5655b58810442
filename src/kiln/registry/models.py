"""Registry tables.

A registered model (name unique in its project) has numbered versions. A version's files are copied
into the registry's own storage (``storage_prefix`` in the artifact store) and never change; their
sha256 digests are in ``model_version_files``. Params and metrics are copied from the source run
into their own tables, so versions are searchable with the tracking filter grammar even after the
run is gone. Every stage change is a row in ``model_stage_changes``: the history, and the answer to
"which version was in production on date D".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType, TimestampMixin
from kiln.registry.schemas import ApprovalStatus, Stage, VersionStatus

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class RegisteredModel(IdMixin, TimestampMixin, Base):
    __tablename__ = "registered_models"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Metric gates checked on promotion to staging, e.g. [{"metric": "accuracy", "op": ">=", "value": 0.85}]
    # and {"metric": "accuracy", "max_drop": 0.02} against the current production version.
    gates: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The last version number handed out; taken with a conditional update, so numbers never repeat.
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))


class ModelVersion(IdMixin, TimestampMixin, Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "number"),
        UniqueConstraint("model_id", "label"),
        Index("ix_model_versions_model_stage", "model_id", "stage"),
        # One production version per model, whatever races (migration 0012).
        Index(
            "uq_model_versions_one_production",
            "model_id",
            unique=True,
            sqlite_where=text("stage = 'production'"),
            postgresql_where=text("stage = 'production'"),
        ),
    )

    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    stage: Mapped[str] = mapped_column(String(16), default=Stage.development.value)
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.ready.value)
    flavor: Mapped[str] = mapped_column(String(32))
    serialization: Mapped[str] = mapped_column(String(32))
    # Where it came from: "runs:/<run_id>/model", "upload" or "sdk".
    source: Mapped[str] = mapped_column(String(2048), default="")
    source_run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), index=True)
    # The kiln-model.json as registered (format 2; the signature in it is editable in development).
    descriptor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    environment: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    training_inputs: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    storage_prefix: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # The outcome of the last staging gate run: [{"gate": ..., "passed": ..., "detail": ...}].
    gate_results: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))


class ModelVersionFile(Base):
    __tablename__ = "model_version_files"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))


class ModelVersionParam(Base):
    __tablename__ = "model_version_params"
    __table_args__ = (Index("ix_model_version_params_key_value", "key", "value"),)

    version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(8000))


class ModelVersionMetric(Base):
    __tablename__ = "model_version_metrics"
    __table_args__ = (Index("ix_model_version_metrics_key_value", "key", "value"),)

    version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class ModelAlias(Base):
    """``champion`` -> version: moved with one conditional update, so it is never missing or doubled."""

    __tablename__ = "model_aliases"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(256), default="")


class StageChange(Base):
    __tablename__ = "model_stage_changes"
    __table_args__ = (Index("ix_model_stage_changes_model_at", "model_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(256), default="")
    changed_by_user_id: Mapped[str | None] = mapped_column(String(36))
    approval_id: Mapped[str | None] = mapped_column(String(36))


class Approval(IdMixin, Base):
    """A request to put a version in production, and its four-eyes decision."""

    __tablename__ = "model_approvals"
    __table_args__ = (
        Index("ix_model_approvals_status", "status", "requested_at"),
        # One pending request per version (migration 0012).
        Index(
            "uq_model_approvals_one_pending",
            "version_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ApprovalStatus.pending.value)
    risk_level: Mapped[str] = mapped_column(String(16))
    risk_assessment: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(256), default="")
    requested_by_user_id: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(256))
    decided_by_user_id: Mapped[str | None] = mapped_column(String(36))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class RegistrySettings(Base):
    """Per-project registry policy. Changing it is audited."""

    __tablename__ = "registry_settings"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    # Small teams may let the requester approve their own production promotion.
    allow_single_approver: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(256), default="")
