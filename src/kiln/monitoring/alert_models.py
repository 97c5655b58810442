"""Alert tables: rules on a deployment's metrics or drift, the incidents they open, the channels
that hear of them, and every delivery with each attempt.

Projects and users are auth's tables, referenced by foreign key name only. A rule names its
deployment by name, as the metric windows do (a stopped deployment's rules simply see no data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType, TimestampMixin
from kiln.core.ids import utcnow
from kiln.monitoring.alert_schemas import NAME_LENGTH, NOTE_LENGTH

_ACTOR = 256


class AlertChannel(IdMixin, TimestampMixin, Base):
    __tablename__ = "alert_channels"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # email | slack | webhook | in_app (alert_schemas.ChannelKind)
    kind: Mapped[str] = mapped_column(String(16))
    # What may be shown: a webhook's URL, mail addresses. A Slack URL is a secret and lives in `secret`.
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    secret: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(_ACTOR), default="")


class AlertRule(IdMixin, TimestampMixin, Base):
    __tablename__ = "alert_rules"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        Index("ix_alert_rules_deployment", "deployment"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    deployment: Mapped[str] = mapped_column(String(128))
    model_version_number: Mapped[int | None] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(32))
    comparison: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    window_seconds: Mapped[int] = mapped_column(Integer)
    channel_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The built-in rule this is (error_rate, latency_p99, drift), or NULL for a person's rule.
    builtin: Mapped[str | None] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # ok | pending | firing (alert_schemas.RuleState), moved by conditional updates only.
    state: Mapped[str] = mapped_column(String(16), default="ok")
    breaching_since: Mapped[datetime | None]
    last_value: Mapped[float | None] = mapped_column(Float)
    last_evaluated_at: Mapped[datetime | None]
    # The end of the last window judged (drift rules judge each closed window once).
    last_window_end: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(_ACTOR), default="")


class AlertIncident(IdMixin, Base):
    __tablename__ = "alert_incidents"
    __table_args__ = (Index("ix_alert_incidents_project_fired", "project_id", "fired_at"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    # The rule as it fired (a later edit does not rewrite history).
    rule_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    deployment: Mapped[str] = mapped_column(String(128))
    metric: Mapped[str] = mapped_column(String(32))
    comparison: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    # firing | resolved
    state: Mapped[str] = mapped_column(String(16), default="firing")
    value: Mapped[float | None] = mapped_column(Float)
    breaching_since: Mapped[datetime]
    fired_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_value: Mapped[float | None] = mapped_column(Float)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(_ACTOR))
    acknowledged_by_user_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(String(NOTE_LENGTH))


class AlertDelivery(IdMixin, Base):
    """One message to one channel (an incident firing or resolving, or a test)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_incident", "incident_id"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("alert_channels.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("alert_incidents.id", ondelete="CASCADE"))
    # firing | resolved | test
    event: Mapped[str] = mapped_column(String(16))
    # pending | delivered | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class AlertDeliveryAttempt(IdMixin, Base):
    __tablename__ = "alert_delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("alert_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # ok | failed
    status: Mapped[str] = mapped_column(String(16))
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
