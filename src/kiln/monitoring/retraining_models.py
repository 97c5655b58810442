"""Retraining triggers: a deployment whose drift is detected, or whose alert rule fires, starts a
pipeline run (``retraining_fire``).

One trigger per deployment (named by name, as alert rules and metric windows name it). The pipeline
is pipelines' table, referenced by foreign key (and its name kept: pipelines are never renamed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType, TimestampMixin

_ACTOR = 256
OUTCOME_LENGTH = 500


class RetrainingTrigger(IdMixin, TimestampMixin, Base):
    __tablename__ = "retraining_triggers"
    __table_args__ = (UniqueConstraint("project_id", "deployment"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    deployment: Mapped[str] = mapped_column(String(128))
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    pipeline_name: Mapped[str] = mapped_column(String(128))
    # The run's parameters (checked against the pipeline's latest version when made and when fired).
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    on_drift: Mapped[bool] = mapped_column(Boolean, default=True)
    on_alert: Mapped[bool] = mapped_column(Boolean, default=True)
    # Names of the alert rules that fire it; empty: any rule on the deployment.
    alert_rules: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cooldown_seconds: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(_ACTOR), default="")
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    # How many runs it started: what a start is claimed against (UPDATE ... WHERE runs_started = :seen).
    runs_started: Mapped[int] = mapped_column(Integer, default=0)
    last_triggered_at: Mapped[datetime | None]
    last_run_id: Mapped[str | None] = mapped_column(String(36))
    # What the last drift or alert did: the run it started, or why it started none.
    last_outcome: Mapped[str | None] = mapped_column(String(OUTCOME_LENGTH))
    last_outcome_at: Mapped[datetime | None]
