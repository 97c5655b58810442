"""Served traffic for drift: inputs drawn like the built model's training data, logged as served."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model
from tests.builders.serving import log_predictions, prediction


def like_training(rows: int, seed: int) -> pd.DataFrame:
    """Inputs drawn as the built model's training data was (amount 0-100, age 18-80, uniform)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.uniform(0, 100, rows), "age": rng.uniform(18, 80, rows)})


def serve(app: FastAPI, client: TestClient, name: str = "fraud") -> str:
    """Deploy a built model (its training inputs and its answers to them are its reference)."""
    [version] = build_model(app)
    deploy(client, name, version.model, version=1)
    return version.id


def log_served(
    app: FastAPI,
    version_id: str,
    frame: pd.DataFrame,
    *,
    start: datetime,
    per_request: int = 10,
    predictions: list[int] | None = None,
    deployment: str = "fraud",
) -> None:
    """Log ``frame`` as served from ``start`` on, ``per_request`` rows a request, with the model's
    rule (fraud when the amount is over 50) as its answers unless ``predictions`` are given."""
    project = default_project_id(app)
    records = frame.to_dict(orient="records")
    answers = predictions if predictions is not None else [int(row["amount"] > 50) for row in records]
    log_predictions(
        database(app),
        [
            prediction(
                project,
                deployment=deployment,
                inputs=records[i : i + per_request],
                outputs={"predictions": answers[i : i + per_request]},
                model_version_id=version_id,
                model_version_number=1,
                created_at=start + timedelta(seconds=i),
            )
            for i in range(0, len(records), per_request)
        ],
    )
