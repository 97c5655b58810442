"""Alert channels: webhook targets checked against SSRF when saved and when delivering, failed
deliveries retried with every attempt recorded, secrets never shown, other projects' things hidden."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.monitoring.alert_evaluation import evaluate_alerts
from tests.api import API, error_of
from tests.builders.alerts import run_deliveries, webhook_receiver
from tests.builders.auth import access_token, api, make_account, make_member, make_project
from tests.builders.core import database
from tests.builders.deployments import deploy
from tests.builders.registry_lifecycle import build_model

CHANNELS = f"{API}/alerts/channels"
SECRET = "another-signing-secret-42"


def webhook(client: TestClient, url: str, name: str = "hook") -> object:
    return client.post(CHANNELS, json={"name": name, "kind": "webhook", "url": url, "secret": SECRET})


class TestTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.7/hook",
            "http://[::1]/hook",
        ],
    )
    def test_internal_targets_are_refused_by_default(self, client: TestClient, url: str) -> None:
        answer = webhook(client, url)
        assert answer.status_code == 400, answer.text
        error = error_of(answer)
        assert "KILN_WEBHOOK_ALLOW_PRIVATE" in error["message"]
        assert error["details"]["field"] == "url"

    @pytest.mark.parametrize(
        "url", ["ftp://example.com/x", "https://user:pw@example.com/hook", "not a url", "https:///path"]
    )
    def test_malformed_targets_name_the_problem(self, client: TestClient, url: str) -> None:
        answer = webhook(client, url)
        assert answer.status_code == 400, answer.text
        assert error_of(answer)["details"]["field"] == "url"

    def test_a_loopback_target_allowed_by_the_admin_is_refused_again_at_delivery_once_disallowed(
        self, app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KILN_WEBHOOK_ALLOW_PRIVATE", "1")
        with webhook_receiver() as receiver:
            saved = webhook(client, receiver.url)
            assert saved.status_code == 201, saved.text
            monkeypatch.setenv("KILN_WEBHOOK_ALLOW_PRIVATE", "0")
            test = client.post(f"{CHANNELS}/{saved.json()['id']}/test")
            assert test.status_code == 202, test.text
            assert run_deliveries(database(app)) == 1
            delivery = client.get(f"{API}/alerts/deliveries/{test.json()['id']}").json()
            assert delivery["status"] == "failed"  # at once: another attempt would be refused too
            [attempt] = delivery["attempt_history"]
            assert attempt["status"] == "failed"
            assert "loopback" in attempt["error"]
            assert receiver.requests == []


def test_a_failed_delivery_is_retried_with_backoff_and_every_attempt_recorded(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILN_WEBHOOK_ALLOW_PRIVATE", "1")
    db = database(app)
    with webhook_receiver() as receiver:
        receiver.codes = [503]
        saved = webhook(client, receiver.url)
        assert saved.status_code == 201, saved.text
        test = client.post(f"{CHANNELS}/{saved.json()['id']}/test")
        delivery_url = f"{API}/alerts/deliveries/{test.json()['id']}"

        assert run_deliveries(db) == 1
        first = client.get(delivery_url).json()
        assert (first["status"], first["attempts"]) == ("pending", 1)
        assert first["attempt_history"][0]["response_code"] == 503
        assert run_deliveries(db) == 0  # the retry waits for its backoff
        assert run_deliveries(db, later=timedelta(seconds=31)) == 1

        done = client.get(delivery_url).json()
        assert done["status"] == "delivered"
        assert [(a["number"], a["status"], a["response_code"]) for a in done["attempt_history"]] == [
            (1, "failed", 503),
            (2, "ok", 200),
        ]
        assert len(receiver.wait_for(2)) == 2


def test_secrets_are_write_only(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_WEBHOOK_ALLOW_PRIVATE", "1")
    slack = client.post(
        CHANNELS, json={"name": "slack", "kind": "slack", "url": "http://127.0.0.1:9/services/T0/B0/XyZtoken"}
    )
    assert slack.status_code == 201, slack.text
    assert "XyZtoken" not in slack.text
    assert slack.json()["url"] == "https://127.0.0.1/…"
    hook = webhook(client, "http://127.0.0.1:9/hook")
    changed = client.patch(f"{CHANNELS}/{hook.json()['id']}", json={"secret": "a-brand-new-secret-value"})
    assert changed.status_code == 200, changed.text
    listed = client.get(CHANNELS)
    assert SECRET not in listed.text
    assert "a-brand-new-secret-value" not in listed.text
    assert "XyZtoken" not in listed.text
    trail = client.get(f"{API}/audit", params={"action": "alert_channel.updated"})
    assert "a-brand-new-secret-value" not in trail.text


def test_a_webhook_needs_a_secret_and_an_email_channel_no_url(client: TestClient) -> None:
    no_secret = client.post(CHANNELS, json={"name": "h", "kind": "webhook", "url": "https://example.com/h"})
    assert no_secret.status_code == 400, no_secret.text
    assert error_of(no_secret)["details"]["field"] == "secret"
    mail_url = client.post(CHANNELS, json={"name": "m", "kind": "email", "url": "https://example.com/h"})
    assert mail_url.status_code == 400, mail_url.text
    bad_mail = client.post(CHANNELS, json={"name": "m", "kind": "email", "to": ["not-an-address"]})
    assert bad_mail.status_code == 422, bad_mail.text


def test_other_projects_alerts_are_not_found(app: FastAPI, client: TestClient) -> None:
    [version] = build_model(app)
    deploy(client, "fraud", version.model, version=1)
    channel = client.post(CHANNELS, json={"name": "app", "kind": "in_app"}).json()
    rule = client.post(
        f"{API}/alerts/rules",
        json={"deployment": "fraud", "metric": "error_rate", "comparison": ">", "threshold": 0.2},
    ).json()
    with database(app).unit_of_work() as session:
        evaluate_alerts(session, rule_created_plus_minute(rule))
    outsider = make_account(app, role=Role.ml_engineer)
    with database(app).unit_of_work() as session:
        make_project(session, members={outsider.id: Role.ml_engineer.value})
    other = api(app, access_token(app, outsider))
    for path in (f"{API}/alerts/rules/{rule['id']}", f"{CHANNELS}/{channel['id']}"):
        assert other.get(path).status_code == 404, path
    assert other.patch(f"{API}/alerts/rules/{rule['id']}", json={"threshold": 0.9}).status_code == 404
    assert other.post(f"{CHANNELS}/{channel['id']}/test").status_code == 404
    for path in (f"{API}/alerts/rules", CHANNELS, f"{API}/alerts/incidents"):
        answer = other.get(path)
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"] == [], path
    made = other.post(
        f"{API}/alerts/rules",
        json={"deployment": "fraud", "metric": "error_rate", "comparison": ">", "threshold": 0.2},
    )
    assert made.status_code == 404, made.text


def test_a_viewer_reads_alerts_but_changes_none(app: FastAPI, client: TestClient) -> None:
    viewer = api(app, access_token(app, make_member(app, Role.viewer)))
    assert viewer.get(CHANNELS).status_code == 200
    assert viewer.post(CHANNELS, json={"name": "app", "kind": "in_app"}).status_code == 403


def rule_created_plus_minute(rule: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(rule["created_at"])) + timedelta(minutes=1)
