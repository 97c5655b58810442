"""Stored drift reports: one per deployment and window, with one score row per feature for charts.

A report is ``[start, start + window_seconds)`` of the deployment's served inputs against the
reference sample of the model version that answered most of that window. Recomputing a window
replaces its report (unique per deployment and window), so a job delivered twice stores one report.
No foreign keys to deployments or versions, like the metric windows: history outlives them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType, TimestampMixin
from kiln.serving.models import NAME_LENGTH

FEATURE_LENGTH = 256
SOURCE_LENGTH = 400


class StoredDriftReport(IdMixin, Base):
    __tablename__ = "drift_reports"
    __table_args__ = (UniqueConstraint("project_id", "deployment", "window_seconds", "start"),)

    project_id: Mapped[str] = mapped_column(String(36))
    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH))
    model_version_id: Mapped[str | None] = mapped_column(String(36))
    model_version_number: Mapped[int | None] = mapped_column(Integer)
    window_seconds: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime]
    end: Mapped[datetime]
    # Served rows the window held (the largest per-feature count).
    rows: Mapped[int] = mapped_column(Integer)
    dataset_drift: Mapped[bool] = mapped_column(Boolean)
    prediction_drift: Mapped[bool | None] = mapped_column(Boolean)
    drifted_share: Mapped[float] = mapped_column(Float)
    retrain_recommended: Mapped[bool] = mapped_column(Boolean)
    drifted_features: Mapped[list[str]] = mapped_column(JSONType, default=list)
    summary: Mapped[str] = mapped_column(Text)
    # kiln.monitoring.drift_schemas.FeatureDrift per feature, histograms included (JSON mode).
    features: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Whose thresholds those were ("model 'fraud' v2", "model 'fraud'", "defaults"): the settings
    # may change later, the report stays explainable.
    thresholds_source: Mapped[str | None] = mapped_column(String(SOURCE_LENGTH))
    computed_at: Mapped[datetime]


class DriftFeatureScore(Base):
    """A feature's verdict in one report, apart from the report's JSON so a chart of one feature over
    time reads a narrow index, not every report."""

    __tablename__ = "drift_feature_scores"
    __table_args__ = (
        Index(
            "ix_drift_feature_scores_series", "project_id", "deployment", "feature", "window_seconds", "start"
        ),
    )

    report_id: Mapped[str] = mapped_column(
        ForeignKey("drift_reports.id", ondelete="CASCADE"), primary_key=True
    )
    feature: Mapped[str] = mapped_column(String(FEATURE_LENGTH), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(36))
    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH))
    window_seconds: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    drifted: Mapped[bool] = mapped_column(Boolean)
    psi: Mapped[float | None] = mapped_column(Float)
    current_count: Mapped[int] = mapped_column(Integer)


class DriftSettings(IdMixin, TimestampMixin, Base):
    """A registered model's drift thresholds (``version_number`` 0), or one version's, which replace
    the model's whole for reports of that version. Deleted with the model or the version."""

    __tablename__ = "drift_settings"
    __table_args__ = (UniqueConstraint("model_id", "version_number"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    model_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    version_number: Mapped[int] = mapped_column(Integer, default=0)
    # kiln.monitoring.drift_schemas.DriftThresholds (JSON mode), checked against the signature on write.
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_by: Mapped[str] = mapped_column(String(256), default="")
