"""An alert rule with a duration: pending, then firing only once the breach held for the whole
duration, told by mail (a real SMTP server) and a signed webhook (a real HTTP receiver), resolved."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from kiln.jobs.queue import enqueue
from kiln.jobs.worker import Worker
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.monitoring.alert_tasks import EVALUATE
from kiln.monitoring.tasks import TICK
from kiln.monitoring.windows import window_start
from tests.api import API
from tests.builders.alerts import add_windows, run_deliveries, webhook_receiver
from tests.builders.auth import access_token, api, default_project_id, make_member
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model
from tests.notify.mail_server import MailServer

ALERTS = f"{API}/alerts"
SECRET = "s3cret-signing-key-0123"


@pytest.fixture
def fraud(app: FastAPI, client: TestClient) -> str:
    [version] = build_model(app)
    deploy(client, "fraud", version.model, version=1)
    return "fraud"


def evaluate(app: FastAPI, at: object) -> None:
    with database(app).unit_of_work() as session:
        evaluate_alerts(session, at)  # type: ignore[arg-type]


def rule_state(client: TestClient, rule_id: str) -> str:
    answer = client.get(f"{ALERTS}/rules/{rule_id}")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["state"])


def incidents(client: TestClient) -> list[dict[str, object]]:
    answer = client.get(f"{ALERTS}/incidents", params={"deployment": "fraud"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_fires_after_the_duration_arrives_by_mail_and_webhook_and_resolves(
    app: FastAPI, client: TestClient, fraud: str, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILN_SMTP_HOST", mail_server.host)
    monkeypatch.setenv("KILN_SMTP_PORT", str(mail_server.port))
    monkeypatch.setenv("KILN_WEBHOOK_ALLOW_PRIVATE", "1")
    db = database(app)
    with webhook_receiver() as receiver:
        mail = client.post(
            f"{ALERTS}/channels", json={"name": "oncall", "kind": "email", "to": ["ops@kiln.test"]}
        )
        hook = client.post(
            f"{ALERTS}/channels",
            json={"name": "hook", "kind": "webhook", "url": receiver.url, "secret": SECRET},
        )
        assert mail.status_code == 201, mail.text
        assert hook.status_code == 201, hook.text
        assert SECRET not in hook.text
        assert hook.json()["has_secret"] is True
        created = client.post(
            f"{ALERTS}/rules",
            json={
                "deployment": fraud,
                "metric": "accuracy",
                "comparison": "<",
                "threshold": 0.85,
                "duration": "3m",
                "channels": ["oncall", "hook"],
            },
        )
        assert created.status_code == 201, created.text
        rule = created.json()
        assert (rule["window_seconds"], rule["duration_seconds"]) == (60, 180)

        base = window_start(utcnow() - timedelta(hours=2), 60)
        minute = timedelta(minutes=1)
        add_windows(
            db, default_project_id(app), fraud, "accuracy", {base + i * minute: 0.7 for i in range(3)}
        )

        evaluate(app, base + minute + timedelta(seconds=10))  # one bad minute of three
        assert rule_state(client, rule["id"]) == "pending"
        evaluate(app, base + 2 * minute + timedelta(seconds=10))  # two of three
        assert rule_state(client, rule["id"]) == "pending"
        assert incidents(client) == []

        fired_at = base + 3 * minute + timedelta(seconds=10)
        evaluate(app, fired_at)  # the whole duration
        evaluate(app, fired_at)  # again at the same moment: nothing new
        assert rule_state(client, rule["id"]) == "firing"
        [incident] = incidents(client)
        assert incident["state"] == "firing"
        assert incident["value"] == 0.7
        assert incident["breaching_since"].startswith(base.isoformat()[:19])

        assert run_deliveries(db) == 2
        message = mail_server.inbox.wait_for("ops@kiln.test", subject="FIRING")
        assert "accuracy < 0.85 for 3m" in message.body
        [request] = receiver.wait_for(1)
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Kiln-Signature"] == expected
        assert request.headers["X-Kiln-Event"] == "firing"
        payload = json.loads(request.body)
        assert payload["event"] == "firing"
        assert payload["incident"]["id"] == incident["id"]

        # The next minute is good again: the incident resolves, and both channels hear of it.
        add_windows(db, default_project_id(app), fraud, "accuracy", {base + 3 * minute: 0.95})
        evaluate(app, base + 4 * minute + timedelta(seconds=10))
        assert rule_state(client, rule["id"]) == "ok"
        [resolved] = incidents(client)
        assert resolved["state"] == "resolved"
        assert resolved["resolved_value"] == 0.95
        assert run_deliveries(db) == 2
        mail_server.inbox.wait_for("ops@kiln.test", subject="RESOLVED")
        assert json.loads(receiver.wait_for(2)[1].body)["event"] == "resolved"

        detail = client.get(f"{ALERTS}/incidents/{incident['id']}").json()
        assert sorted((d["event"], d["status"]) for d in detail["deliveries"]) == [
            ("firing", "delivered"),
            ("firing", "delivered"),
            ("resolved", "delivered"),
            ("resolved", "delivered"),
        ]


def test_a_gap_in_the_breach_starts_the_duration_again(app: FastAPI, client: TestClient, fraud: str) -> None:
    created = client.post(
        f"{ALERTS}/rules",
        json={
            "deployment": fraud,
            "metric": "error_rate",
            "comparison": ">",
            "threshold": 0.1,
            "duration": "3m",
        },
    )
    assert created.status_code == 201, created.text
    base = window_start(utcnow() - timedelta(hours=2), 60)
    minute = timedelta(minutes=1)
    values = {base: 0.5, base + minute: 0.0, base + 2 * minute: 0.5, base + 3 * minute: 0.5}
    add_windows(database(app), default_project_id(app), fraud, "error_rate", values)
    evaluate(app, base + 4 * minute)
    assert rule_state(client, created.json()["id"]) == "pending"
    assert incidents(client) == []


def test_acknowledging_an_incident_names_who_with_their_note(
    app: FastAPI, client: TestClient, fraud: str
) -> None:
    created = client.post(
        f"{ALERTS}/rules",
        json={
            "deployment": fraud,
            "metric": "latency_p99",
            "comparison": ">=",
            "threshold": 250,
            "duration": 0,
        },
    )
    assert created.status_code == 201, created.text
    base = window_start(utcnow() - timedelta(hours=1), 60)
    add_windows(database(app), default_project_id(app), fraud, "latency_p99", {base: 900.0})
    evaluate(app, base + timedelta(minutes=1))
    [incident] = incidents(client)

    acked = client.post(f"{ALERTS}/incidents/{incident['id']}/ack", json={"note": "rolling back v1"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_by"] == "admin@kiln.test"
    assert acked.json()["note"] == "rolling back v1"
    assert acked.json()["state"] == "firing"  # acknowledged is not resolved
    again = client.post(f"{ALERTS}/incidents/{incident['id']}/ack", json={"note": "me too"})
    assert again.status_code == 409, again.text
    trail = client.get(f"{API}/audit", params={"action": "alert_incident.acknowledged"})
    assert trail.status_code == 200, trail.text
    assert any(item["target_id"] == incident["id"] for item in trail.json()["items"])


def test_each_tick_queues_an_evaluation_on_the_job_queue(
    app: FastAPI, client: TestClient, fraud: str
) -> None:
    db = database(app)
    with db.unit_of_work() as session:
        enqueue(session, TICK, {"since": (utcnow() - timedelta(minutes=2)).isoformat()})
    assert Worker(db, kinds=[TICK]).run_pending() == 1
    assert Worker(db, kinds=[EVALUATE]).run_pending() == 1
    rules = client.get(f"{ALERTS}/rules", params={"deployment": fraud}).json()["items"]
    assert {rule["builtin"] for rule in rules} == {"error_rate", "latency_p99", "drift"}
    assert all(rule["last_evaluated_at"] for rule in rules if rule["builtin"] != "drift")


def test_an_email_channel_without_addresses_mails_the_members_who_keep_alert_mail_on(
    app: FastAPI, client: TestClient, fraud: str, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILN_SMTP_HOST", mail_server.host)
    monkeypatch.setenv("KILN_SMTP_PORT", str(mail_server.port))
    keen = make_member(app, Role.viewer, email="keen@kiln.test")
    quiet = make_member(app, Role.viewer, email="quiet@kiln.test")
    muted = api(app, access_token(app, quiet)).put(
        f"{API}/me/notification-settings", json=[{"kind": "alert.firing", "email": False}]
    )
    assert muted.status_code == 200, muted.text
    channel = client.post(f"{ALERTS}/channels", json={"name": "members", "kind": "email"})
    assert channel.status_code == 201, channel.text
    client.post(
        f"{ALERTS}/rules",
        json={
            "deployment": fraud,
            "metric": "errors",
            "comparison": ">",
            "threshold": 3,
            "channels": ["members"],
        },
    )
    base = window_start(utcnow() - timedelta(hours=1), 60)
    add_windows(database(app), default_project_id(app), fraud, "errors", {base: 10.0})
    evaluate(app, base + timedelta(minutes=1))
    assert run_deliveries(database(app)) == 1
    assert "errors > 3 for 0s" in mail_server.inbox.wait_for(keen.email, subject="FIRING").body
    assert mail_server.inbox.to(quiet.email) == []
