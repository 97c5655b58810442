"""Lifecycle changes notify people: promotions and rollbacks the project's members, approval requests
its approvers (never the requester), decisions the requester; in the app and, as each chose, by mail
through the real SMTP server. Nobody hears of their own change."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from kiln.auth.permissions import Role
from tests.api import API
from tests.builders.auth import make_account, update_user
from tests.builders.notify import stored_count
from tests.builders.registry_lifecycle import BuiltVersion, build_model
from tests.notify.mail_server import MailServer
from tests.registry.lifecycle_api import (
    Person,
    decide,
    person,
    request_production,
    to_production,
    to_staging,
)


@pytest.fixture
def team(mail_app: FastAPI) -> dict[str, Person]:
    """Members of the default project on an app that mails the test's SMTP server."""
    return {
        "requester": person(mail_app, Role.ml_engineer),
        "approver": person(mail_app, Role.ml_engineer),
        "scientist": person(mail_app, Role.data_scientist),
        "viewer": person(mail_app, Role.viewer),
    }


@pytest.fixture
def built(mail_app: FastAPI) -> BuiltVersion:
    [version] = build_model(mail_app, name="fraud_detector", labels=["1.0.0"])
    return version


def inbox(someone: Person) -> list[dict[str, Any]]:
    response = someone.client.get(f"{API}/notifications")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def titles(someone: Person) -> list[str]:
    return [item["title"] for item in inbox(someone)]


def set_channels(someone: Person, kind: str, **channels: bool) -> None:
    response = someone.client.put(f"{API}/me/notification-settings", json=[{"kind": kind, **channels}])
    assert response.status_code == 200, response.text


class TestPromotion:
    def test_staging_tells_the_other_members_in_the_app_with_a_link_to_the_version(
        self, team: dict[str, Person], built: BuiltVersion
    ) -> None:
        to_staging(team["requester"].client, built.model, 1)

        for name in ("approver", "scientist", "viewer"):
            [item] = inbox(team[name])
            assert item["kind"] == "model_version.promoted"
            assert item["title"] == "fraud_detector v1 (1.0.0) is in staging"
            assert item["link"] == "/models/fraud_detector/versions/1"
        assert inbox(team["requester"]) == []

    def test_mail_reaches_only_those_who_turned_it_on(
        self, team: dict[str, Person], built: BuiltVersion, mail_server: MailServer
    ) -> None:
        # Promotions mail nobody by default; the viewer asks for mail.
        set_channels(team["viewer"], "model_version.promoted", email=True)

        to_staging(team["requester"].client, built.model, 1)

        mail = mail_server.inbox.wait_for(team["viewer"].account.email, subject="is in staging")
        assert mail.subject == "[Kiln] fraud_detector v1 (1.0.0) is in staging"
        assert mail.link("/models/fraud_detector/versions/1").startswith("http")
        mail_server.inbox.assert_quiet(team["scientist"].account.email)

    def test_production_after_an_approval_tells_members_it_is_in_production(
        self, team: dict[str, Person], built: BuiltVersion
    ) -> None:
        to_production(team["requester"].client, team["approver"].client, built.model, 1)

        assert "fraud_detector v1 (1.0.0) is in production" in titles(team["viewer"])
        assert "fraud_detector v1 (1.0.0) is in production" in titles(team["requester"])
        # The approver promoted it: they are not told of their own change.
        assert "fraud_detector v1 (1.0.0) is in production" not in titles(team["approver"])


class TestApprovalRequest:
    def test_approvers_are_told_in_the_app_and_by_mail_and_the_requester_is_not(
        self, team: dict[str, Person], built: BuiltVersion, mail_server: MailServer
    ) -> None:
        to_staging(team["requester"].client, built.model, 1)
        asked = request_production(team["requester"].client, built.model, 1, level="high")
        assert asked.status_code == 201, asked.text

        [item] = [i for i in inbox(team["approver"]) if i["kind"] == "approval.requested"]
        assert item["title"] == "fraud_detector v1 (1.0.0) waits for your approval for production"
        assert item["link"] == f"/approvals/{asked.json()['id']}"
        mail = mail_server.inbox.wait_for(team["approver"].account.email, subject="waits for your approval")
        assert "risk: high" in mail.body
        assert mail.link(f"/approvals/{asked.json()['id']}")
        # Neither the requester nor members who may not approve.
        for name in ("requester", "scientist", "viewer"):
            assert [i for i in inbox(team[name]) if i["kind"] == "approval.requested"] == []
        mail_server.inbox.assert_quiet(team["requester"].account.email)

    def test_an_approver_who_turned_mail_off_is_told_in_the_app_only(
        self, team: dict[str, Person], built: BuiltVersion, mail_server: MailServer
    ) -> None:
        set_channels(team["approver"], "approval.requested", email=False)
        to_staging(team["requester"].client, built.model, 1)

        assert request_production(team["requester"].client, built.model, 1).status_code == 201

        assert [i["kind"] for i in inbox(team["approver"])].count("approval.requested") == 1
        mail_server.inbox.assert_quiet(team["approver"].account.email)

    def test_a_deactivated_approver_hears_nothing(
        self, mail_app: FastAPI, team: dict[str, Person], built: BuiltVersion
    ) -> None:
        gone = make_account(mail_app, role=Role.ml_engineer, project_role=Role.ml_engineer)
        update_user(mail_app, gone.id, is_active=False)
        to_staging(team["requester"].client, built.model, 1)

        assert request_production(team["requester"].client, built.model, 1).status_code == 201

        assert stored_count(mail_app, gone.id) == 0


class TestDecision:
    @pytest.mark.parametrize(("verdict", "outcome"), [("approve", "approved"), ("reject", "rejected")])
    def test_the_requester_is_told_the_decision_with_its_reason(
        self,
        team: dict[str, Person],
        built: BuiltVersion,
        mail_server: MailServer,
        verdict: str,
        outcome: str,
    ) -> None:
        to_staging(team["requester"].client, built.model, 1)
        approval_id = request_production(team["requester"].client, built.model, 1).json()["id"]

        decided = decide(team["approver"].client, approval_id, verdict, reason="metrics hold up")
        assert decided.status_code == 200, decided.text

        [item] = [i for i in inbox(team["requester"]) if i["kind"] == "approval.decided"]
        assert item["title"].startswith(f"Your request for fraud_detector v1 (1.0.0) was {outcome}")
        assert "metrics hold up" in item["body"]
        mail = mail_server.inbox.wait_for(team["requester"].account.email, subject="Your request")
        assert "metrics hold up" in mail.body
        # Only the requester hears of the decision.
        assert [i for i in inbox(team["viewer"]) if i["kind"] == "approval.decided"] == []


class TestRollback:
    def test_members_are_told_in_the_app_and_by_mail(
        self, mail_app: FastAPI, team: dict[str, Person], mail_server: MailServer
    ) -> None:
        built = build_model(mail_app, versions=2, name="fraud_detector")
        requester, approver = team["requester"].client, team["approver"].client
        to_production(requester, approver, built[0].model, 1)
        to_production(requester, approver, built[0].model, 2)

        rolled = requester.post(f"{API}/models/fraud_detector/rollback", json={"reason": "false positives"})
        assert rolled.status_code == 200, rolled.text

        [item] = [i for i in inbox(team["viewer"]) if i["kind"] == "model_version.rolled_back"]
        assert item["title"] == "fraud_detector production rolled back to v1"
        assert "false positives" in item["body"]
        assert item["link"] == "/models/fraud_detector/versions/1"
        mail = mail_server.inbox.wait_for(team["scientist"].account.email, subject="rolled back")
        assert "false positives" in mail.body
        assert [i for i in inbox(team["requester"]) if i["kind"] == "model_version.rolled_back"] == []
