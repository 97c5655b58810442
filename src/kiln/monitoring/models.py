"""Monitoring tables: one row per metric per window of a deployment's prediction log.

A window is ``[start, start + window_seconds)`` on the epoch grid of its size; recomputing it replaces
its rows in one transaction, so a rerun after downtime or a crash never double counts, and late
feedback is taken in by recomputing the windows it belongs to. ``model_version_id`` NULL is the
deployment as a whole (every version that answered in the window). No foreign keys, like the log
it summarises: history outlives a deleted deployment or version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin
from kiln.serving.models import NAME_LENGTH


class MetricWindow(IdMixin, Base):
    __tablename__ = "metric_windows"
    __table_args__ = (
        Index("ix_metric_windows_series", "project_id", "deployment", "metric", "window_seconds", "start"),
    )

    project_id: Mapped[str] = mapped_column(String(36))
    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH))
    model_version_id: Mapped[str | None] = mapped_column(String(36))
    model_version_number: Mapped[int | None] = mapped_column(Integer)
    window_seconds: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime]
    end: Mapped[datetime]
    metric: Mapped[str] = mapped_column(String(32))
    # None: the metric is undefined on this window (AUC with one class seen, R² of constant truth).
    value: Mapped[float | None] = mapped_column(Float)
    # What the value is over: requests for traffic metrics, rows with ground truth for quality ones.
    samples: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime]
