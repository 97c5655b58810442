"""Serving tables: the prediction log and the ground truth that arrives for it later.

``predictions`` is telemetry: written in batches by ``prediction_log.PredictionLogger``, off the
request path, with one executemany per batch. It holds no foreign keys on purpose: a batch must
never fail because a deployment, a model version or a project was deleted while it waited in the
queue (the log records what answered, as it was named then). ``seq`` orders the log (keyset
pages); ``request_id`` is the id the caller saw, and what feedback names.

``prediction_feedback`` has one row per request id: a later feedback for the same id replaces it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, JSONType

BigIntId = BigInteger().with_variant(Integer(), "sqlite")

# Column widths, shared with the logger (which cuts what would not fit rather than fail a batch).
NAME_LENGTH = 256
CALLER_LENGTH = 256


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_deployment_created_at", "deployment", "created_at"),
        Index("ix_predictions_project_created_at", "project_id", "created_at"),
        Index("ix_predictions_model_version_id", "model_version_id"),
    )

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # A UUIDv7 made by the serving process, echoed to the caller.
    request_id: Mapped[str] = mapped_column(String(36), unique=True)
    deployment: Mapped[str] = mapped_column(String(NAME_LENGTH))
    deployment_id: Mapped[str | None] = mapped_column(String(36))
    project_id: Mapped[str] = mapped_column(String(36))
    model_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    model_version_id: Mapped[str | None] = mapped_column(String(36))
    model_version_number: Mapped[int | None] = mapped_column(Integer)
    inputs: Mapped[Any] = mapped_column(JSONType, nullable=True)
    outputs: Mapped[Any] = mapped_column(JSONType, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    # "ok" | "invalid" | "error" (kiln.serving.schemas.PredictionStatus)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    caller: Mapped[str] = mapped_column(String(CALLER_LENGTH))
    caller_user_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]


class PredictionFeedback(Base):
    __tablename__ = "prediction_feedback"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("predictions.request_id", ondelete="CASCADE"), primary_key=True
    )
    actual: Mapped[Any] = mapped_column(JSONType)
    # Optional business values of the outcome ({"amount": 120.5, "chargeback": true}).
    values: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    received_at: Mapped[datetime]
    received_by: Mapped[str] = mapped_column(String(CALLER_LENGTH))
    received_by_user_id: Mapped[str | None] = mapped_column(String(36))
