"""A deployment's served inputs against its model's training sample, over HTTP."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api import API, error_of
from tests.builders.drift import like_training, log_served, serve
from tests.builders.serving import at

DRIFT = f"{API}/monitoring/drift"
HOUR = at("2025-03-01T11:00:00+00:00")
RANGE = {"from": "2025-03-01T11:00:00Z", "to": "2025-03-01T12:00:00Z"}


def test_inputs_like_the_training_data_do_not_drift(app: FastAPI, client: TestClient) -> None:
    log_served(app, serve(app, client), like_training(300, seed=1), start=HOUR)
    answer = client.get(DRIFT, params={"deployment": "fraud", **RANGE})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [feature["feature"] for feature in report["features"]] == ["amount", "age", "prediction"]
    assert [feature["current_count"] for feature in report["features"]] == [300, 300, 300]
    assert report["drifted_features"] == []
    assert report["prediction_drift"] is False  # the model's answers are as frequent as in training
    assert report["summary"].startswith("No drift: 2 features stable")


def test_a_shifted_feature_is_named_with_its_test(app: FastAPI, client: TestClient) -> None:
    served = like_training(300, seed=1)
    served["amount"] = served["amount"] * 3  # prices tripled since training
    log_served(app, serve(app, client), served, start=HOUR)
    report = client.get(DRIFT, params={"deployment": "fraud", **RANGE}).json()
    assert report["drifted_features"] == ["amount"]
    [amount] = [feature for feature in report["features"] if feature["feature"] == "amount"]
    assert amount["method"] == "ks"
    assert amount["ks_p_value"] < 0.001
    assert report["summary"].startswith("1 of 2 features drifted (amount)")
    assert report["retrain_recommended"]  # half the features moved: the share that calls for it
    assert report["prediction_drift"]  # tripled amounts: far more answers of "fraud" than in training


def test_predictions_that_moved_alone_are_prediction_drift(app: FastAPI, client: TestClient) -> None:
    served = like_training(300, seed=2)
    log_served(app, serve(app, client), served, start=HOUR, predictions=[1] * 300)  # always "fraud"
    report = client.get(DRIFT, params={"deployment": "fraud", **RANGE}).json()
    assert report["drifted_features"] == []
    [answers] = [feature for feature in report["features"] if feature["feature"] == "prediction"]
    assert answers["kind"] == "categorical"
    assert answers["method"] == "chi2"
    assert answers["drifted"]
    assert report["prediction_drift"]
    assert report["retrain_recommended"]
    assert "the model's predictions drifted" in report["summary"]


def test_a_window_with_nothing_served_reports_no_values(app: FastAPI, client: TestClient) -> None:
    serve(app, client)
    report = client.get(DRIFT, params={"deployment": "fraud", **RANGE}).json()
    assert {feature["message"] for feature in report["features"]} == {
        "amount: no values in the window",
        "age: no values in the window",
        "prediction: no values in the window",
    }


def test_mistakes_are_answered_with_what_to_fix(app: FastAPI, client: TestClient) -> None:
    serve(app, client)
    assert client.get(DRIFT, params={"deployment": "nope"}).status_code == 404
    backwards = client.get(DRIFT, params={"deployment": "fraud", "from": RANGE["to"], "to": RANGE["from"]})
    assert backwards.status_code == 422
    assert "`from` must be before `to`" in backwards.text
    assert error_of(backwards)
