"""A deployment's served inputs against its model's training sample, over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api import API, error_of
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model
from tests.builders.serving import at, log_predictions, prediction

DRIFT = f"{API}/monitoring/drift"
HOUR = at("2025-03-01T11:00:00+00:00")
RANGE = {"from": "2025-03-01T11:00:00Z", "to": "2025-03-01T12:00:00Z"}


def like_training(rows: int, seed: int) -> pd.DataFrame:
    """Inputs drawn as the built model's training data was (amount 0-100, age 18-80, uniform)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.uniform(0, 100, rows), "age": rng.uniform(18, 80, rows)})


def serve(app: FastAPI, client: TestClient) -> str:
    [version] = build_model(app)  # its training inputs are its reference sample
    deploy(client, "fraud", version.model, version=1)
    return version.id


def log_served(app: FastAPI, version_id: str, frame: Any, *, per_request: int = 10) -> None:
    project = default_project_id(app)
    records = frame.to_dict(orient="records")
    log_predictions(
        database(app),
        [
            prediction(
                project,
                inputs=records[i : i + per_request],
                outputs={"predictions": [1] * len(records[i : i + per_request])},
                model_version_id=version_id,
                model_version_number=1,
                created_at=HOUR + timedelta(seconds=i),
            )
            for i in range(0, len(records), per_request)
        ],
    )


def test_inputs_like_the_training_data_do_not_drift(app: FastAPI, client: TestClient) -> None:
    log_served(app, serve(app, client), like_training(300, seed=1))
    answer = client.get(DRIFT, params={"deployment": "fraud", **RANGE})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [feature["current_count"] for feature in report["features"]] == [300, 300]
    assert report["drifted_features"] == []
    assert report["summary"].startswith("No drift: 2 features stable")


def test_a_shifted_feature_is_named_with_its_test(app: FastAPI, client: TestClient) -> None:
    served = like_training(300, seed=1)
    served["amount"] = served["amount"] * 3  # prices tripled since training
    log_served(app, serve(app, client), served)
    report = client.get(DRIFT, params={"deployment": "fraud", **RANGE}).json()
    assert report["drifted_features"] == ["amount"]
    [amount] = [feature for feature in report["features"] if feature["feature"] == "amount"]
    assert amount["method"] == "ks"
    assert amount["ks_p_value"] < 0.001
    assert report["summary"].startswith("1 of 2 features drifted (amount)")
    assert report["retrain_recommended"]  # half the features moved: the share that calls for it


def test_a_window_with_nothing_served_reports_no_values(app: FastAPI, client: TestClient) -> None:
    serve(app, client)
    report = client.get(DRIFT, params={"deployment": "fraud", **RANGE}).json()
    assert {feature["message"] for feature in report["features"]} == {
        "amount: no values in the window",
        "age: no values in the window",
    }


def test_mistakes_are_answered_with_what_to_fix(app: FastAPI, client: TestClient) -> None:
    serve(app, client)
    assert client.get(DRIFT, params={"deployment": "nope"}).status_code == 404
    backwards = client.get(DRIFT, params={"deployment": "fraud", "from": RANGE["to"], "to": RANGE["from"]})
    assert backwards.status_code == 422
    assert "`from` must be before `to`" in backwards.text
    assert error_of(backwards)
