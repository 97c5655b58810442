"""Logged predictions, written through the prediction logger itself (as the serving path does)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI

from kiln.core.db import Database
from kiln.serving.prediction_log import PredictionLogger
from kiln.serving.prediction_record import PredictionRecord, new_request_id
from kiln.serving.settings import PredictionLogSettings
from tests.builders.auth import default_project_id
from tests.builders.core import database


def prediction(project_id: str, **overrides: Any) -> PredictionRecord:
    """A successful prediction of ``fraud_detector`` v3 on deployment ``fraud``, unless overridden."""
    fields: dict[str, Any] = {
        "request_id": new_request_id(),
        "deployment": "fraud",
        "project_id": project_id,
        "model_name": "fraud_detector",
        "status": "ok",
        "latency_ms": 1.25,
        "inputs": [{"amount": 120.5, "country": "FR"}],
        "outputs": [{"prediction": 0, "probability": 0.12}],
        "model_version_id": "0190a000-0000-7000-8000-000000000003",
        "model_version_number": 3,
        "caller": "ada@example.com",
    }
    fields.update(overrides)
    return PredictionRecord(**fields)


def classified(
    project: str, label: str, p_one: float, *, version: int = 3, **overrides: Any
) -> PredictionRecord:
    """A one-row prediction of a binary classifier: ``label``, with probability ``p_one`` of class "1"."""
    return prediction(
        project,
        outputs={"predictions": [label], "classes": ["0", "1"], "probabilities": [[1 - p_one, p_one]]},
        model_version_number=version,
        model_version_id=f"0190a000-0000-7000-8000-00000000000{version}",
        **overrides,
    )


def log_predictions(db: Database, records: list[PredictionRecord]) -> list[str]:
    """Append ``records`` through a logger and close it (which writes them all); their request ids."""
    logger = PredictionLogger(db, PredictionLogSettings())
    for record in records:
        assert logger.append(record)
    logger.close()
    return [record.request_id for record in records]


def log_in_default_project(app: FastAPI, count: int = 1, **overrides: Any) -> list[str]:
    project_id = default_project_id(app)
    return log_predictions(database(app), [prediction(project_id, **overrides) for _ in range(count)])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
