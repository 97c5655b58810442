"""Alert rules: built-in rules for every active deployment, told in the app; bad rules are 4xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.app import kiln_state
from kiln.core.ids import utcnow
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.monitoring.alert_tasks import drift_scorer
from kiln.monitoring.windows import window_start
from tests.api import API, error_of
from tests.builders.alerts import add_windows, run_deliveries
from tests.builders.auth import default_project_id
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.drift import like_training, log_served, serve
from tests.builders.registry_lifecycle import build_model
from tests.monitoring.test_served_drift import HOUR

RULES = f"{API}/alerts/rules"


@pytest.fixture
def fraud(app: FastAPI, client: TestClient) -> str:
    [version] = build_model(app)
    deploy(client, "fraud", version.model, version=1)
    return "fraud"


def test_every_active_deployment_gets_the_builtin_rules_and_they_notify_in_the_app(
    app: FastAPI, client: TestClient, fraud: str
) -> None:
    base = window_start(utcnow() - timedelta(hours=1), 60)
    values = {base + timedelta(minutes=i): 0.3 for i in range(10)}
    add_windows(database(app), default_project_id(app), fraud, "error_rate", values)
    with database(app).unit_of_work() as session:
        evaluate_alerts(session, base + timedelta(minutes=10))
    rules = client.get(RULES, params={"deployment": fraud}).json()["items"]
    assert sorted((r["builtin"], r["metric"], r["comparison"], r["threshold"]) for r in rules) == [
        ("drift", "drift_share", ">=", 0.5),
        ("error_rate", "error_rate", ">", 0.05),
        ("latency_p99", "latency_p99", ">", 1000.0),
    ]
    assert {r["state"] for r in rules if r["builtin"] == "error_rate"} == {"firing"}
    assert run_deliveries(database(app)) == 1  # the project's in-app channel
    inbox = client.get(f"{API}/notifications").json()["items"]
    assert [n["kind"] for n in inbox] == ["alert.firing"]
    assert "fraud: error rate" in inbox[0]["title"]
    assert inbox[0]["link"] == "/deployments/fraud"

    builtin = next(r for r in rules if r["builtin"] == "error_rate")
    refused = client.delete(f"{RULES}/{builtin['id']}")
    assert refused.status_code == 409, refused.text
    assert "disable" in error_of(refused)["message"]
    tuned = client.patch(f"{RULES}/{builtin['id']}", json={"threshold": 0.5, "enabled": False})
    assert tuned.status_code == 200, tuned.text
    again = client.post(f"{RULES}/builtin", params={"deployment": fraud})
    assert again.status_code == 200, again.text
    assert len(again.json()) == 3  # none added twice


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"duration": "1 hour"}, 422, "duration"),
        ({"duration": "90s"}, 400, "duration"),
        ({"duration": "1h", "window": "1d"}, 400, "duration"),
        ({"metric": "happiness"}, 422, "metric"),
        ({"comparison": "=="}, 422, "comparison"),
        ({"threshold": "NaN"}, 422, "threshold"),
        ({"channels": ["nowhere"]}, 400, "channels"),
    ],
)
def test_a_bad_rule_is_refused_naming_what_to_fix(
    client: TestClient, fraud: str, body: dict[str, object], status: int, field: str
) -> None:
    rule = {"deployment": fraud, "metric": "accuracy", "comparison": "<", "threshold": 0.8, **body}
    answer = client.post(RULES, json=rule)
    assert answer.status_code == status, answer.text
    assert field in answer.text


def test_a_rule_on_an_unknown_deployment_is_not_found(client: TestClient) -> None:
    answer = client.post(
        RULES, json={"deployment": "nope", "metric": "accuracy", "comparison": "<", "threshold": 1}
    )
    assert answer.status_code == 404, answer.text


def test_rule_changes_are_audited(client: TestClient, fraud: str) -> None:
    made = client.post(RULES, json={"deployment": fraud, "metric": "f1", "comparison": "<", "threshold": 0.7})
    assert made.status_code == 201, made.text
    assert client.patch(f"{RULES}/{made.json()['id']}", json={"duration": "2h"}).status_code == 200
    assert client.delete(f"{RULES}/{made.json()['id']}").status_code == 204
    actions = [
        item["action"]
        for item in client.get(f"{API}/audit", params={"target_id": made.json()["id"]}).json()["items"]
    ]
    assert sorted(actions) == ["alert_rule.created", "alert_rule.deleted", "alert_rule.updated"]


def test_the_builtin_drift_rule_fires_on_a_drifted_hour_once(app: FastAPI, client: TestClient) -> None:
    served = like_training(300, seed=1)
    served["amount"] = served["amount"] * 3  # one of two features moved: half of them
    log_served(app, serve(app, client), served, start=HOUR)
    scorer = drift_scorer(kiln_state(app).store)
    after_the_hour = HOUR + timedelta(hours=1, seconds=30)
    for _ in range(2):  # the same closed hour twice: judged once
        with database(app).unit_of_work() as session:
            evaluate_alerts(session, after_the_hour, drift=scorer)
    [rule] = [
        r
        for r in client.get(RULES, params={"deployment": "fraud"}).json()["items"]
        if r["builtin"] == "drift"
    ]
    assert (rule["state"], rule["last_value"]) == ("firing", 0.5)
    [incident] = client.get(f"{API}/alerts/incidents", params={"state": "firing"}).json()["items"]
    assert incident["metric"] == "drift_share"
    assert incident["breaching_since"].startswith("2025-03-01T11:00:00")
