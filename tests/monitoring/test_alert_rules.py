"""Alert rules: built-in rules for every active deployment, told in the app; bad rules are 4xx."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

from kiln.core.ids import utcnow
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.monitoring.windows import window_start
from kiln.serving.models import Prediction
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


def builtin_drift_rule(client: TestClient) -> dict[str, Any]:
    [rule] = [
        r
        for r in client.get(RULES, params={"deployment": "fraud"}).json()["items"]
        if r["builtin"] == "drift"
    ]
    return rule


def evaluate(app: FastAPI, moment: datetime) -> None:
    with database(app).unit_of_work() as session:
        evaluate_alerts(session, moment)


class TestTheBuiltinDriftRuleReadsStoredReports:
    def test_it_fires_once_with_the_stored_reports_share_though_the_served_inputs_are_gone(
        self, app: FastAPI, client: TestClient
    ) -> None:
        served = like_training(300, seed=1)
        served["amount"] = served["amount"] * 3  # one of two features moved: half of them
        log_served(app, serve(app, client), served, start=HOUR)
        after_the_hour = HOUR + timedelta(hours=1, seconds=30)
        evaluate(app, after_the_hour)  # the report's job has not run yet: no data, nothing judged
        assert (builtin_drift_rule(client)["state"], builtin_drift_rule(client)["last_value"]) == ("ok", None)

        compute = {"window": "1h", "start": "2025-03-01T11:00:00Z"}
        report = client.post(f"{API}/monitoring/deployments/fraud/drift-reports", json=compute).json()
        with database(app).unit_of_work() as session:  # the log is gone: only the report can tell
            session.execute(delete(Prediction))
        for _ in range(2):  # the same report twice: judged once
            evaluate(app, after_the_hour + timedelta(minutes=1))
        rule = builtin_drift_rule(client)
        assert (rule["state"], rule["last_value"]) == ("firing", report["drifted_share"]) == ("firing", 0.5)
        [incident] = client.get(f"{API}/alerts/incidents", params={"state": "firing"}).json()["items"]
        assert (incident["metric"], incident["value"]) == ("drift_share", 0.5)
        assert incident["breaching_since"].startswith("2025-03-01T11:00:00")

        # The next hour has no report (no traffic): no data, so the incident neither resolves nor repeats.
        evaluate(app, after_the_hour + timedelta(hours=1))
        assert builtin_drift_rule(client)["state"] == "firing"
        assert len(client.get(f"{API}/alerts/incidents").json()["items"]) == 1

    def test_a_stored_report_that_found_no_drift_resolves_it(self, app: FastAPI, client: TestClient) -> None:
        version_id = serve(app, client)
        drifted = like_training(300, seed=1)
        drifted["amount"] = drifted["amount"] * 3
        log_served(app, version_id, drifted, start=HOUR)
        log_served(app, version_id, like_training(300, seed=2), start=HOUR + timedelta(hours=1))
        reports = f"{API}/monitoring/deployments/fraud/drift-reports"
        for start in ("2025-03-01T11:00:00Z", "2025-03-01T12:00:00Z"):
            assert client.post(reports, json={"window": "1h", "start": start}).status_code == 200
        evaluate(app, HOUR + timedelta(hours=1, seconds=30))
        assert builtin_drift_rule(client)["state"] == "firing"
        evaluate(app, HOUR + timedelta(hours=2, seconds=30))
        rule = builtin_drift_rule(client)
        assert (rule["state"], rule["last_value"]) == ("ok", 0.0)
        [incident] = client.get(f"{API}/alerts/incidents").json()["items"]
        assert incident["state"] == "resolved"
