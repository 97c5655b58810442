"""Four-eyes approval of production, the project's single-approver policy, and the approvals inbox."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit.models import AuditRecord
from kiln.auth.permissions import Role
from tests.api import API, error_of
from tests.builders.auth import api, default_project_id, make_account, make_project, open_session
from tests.builders.core import database
from tests.builders.registry_lifecycle import build_model
from tests.registry.lifecycle_api import (
    Person,
    decide,
    history,
    request_production,
    stages,
    to_production,
    to_staging,
)


class TestFourEyes:
    def test_the_requester_cannot_approve_their_own_request(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        to_staging(engineer.client, v1.model, 1)
        asked = request_production(engineer.client, v1.model, 1, level="high", assessment="new features")
        assert asked.status_code == 201
        assert asked.json()["status"] == "pending"
        refused = decide(engineer.client, asked.json()["id"], "approve")
        assert refused.status_code == 403
        error = error_of(refused)
        assert error["code"] == "self_approval_refused"
        assert "someone else must decide" in error["message"]
        assert stages(engineer.client, v1.model) == {1: "staging"}

    def test_approval_promotes_and_archives_the_old_production_version(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        v1, _v2 = build_model(app, versions=2)
        to_production(engineer.client, approver.client, v1.model, 1)
        decided = to_production(engineer.client, approver.client, v1.model, 2)
        assert decided["status"] == "approved"
        assert decided["decided_by"] == approver.account.email
        assert decided["decision_reason"] == "looks right"
        assert stages(engineer.client, v1.model) == {1: "archived", 2: "production"}
        archived = [c for c in history(engineer.client, v1.model) if c["to_stage"] == "archived"]
        assert archived[0]["reason"] == "replaced by version 2"
        assert archived[0]["approval_id"] == decided["id"]
        # The archived version stays readable.
        assert history(engineer.client, v1.model, version="1")[-1]["to_stage"] == "archived"

    def test_a_rejection_keeps_the_version_in_staging_and_is_decided_once(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        [v1] = build_model(app)
        to_staging(engineer.client, v1.model, 1)
        asked = request_production(engineer.client, v1.model, 1).json()
        rejected = decide(approver.client, asked["id"], "reject", "no load test yet")
        assert rejected.status_code == 200
        assert (rejected.json()["status"], rejected.json()["decision_reason"]) == (
            "rejected",
            "no load test yet",
        )
        again = decide(approver.client, asked["id"], "approve")
        assert again.status_code == 409
        assert "rejected already" in error_of(again)["message"]
        assert stages(engineer.client, v1.model) == {1: "staging"}

    def test_a_decision_needs_its_reason_and_a_request_its_risk(self, app: FastAPI, engineer: Person) -> None:
        [v1] = build_model(app)
        to_staging(engineer.client, v1.model, 1)
        bad_level = request_production(engineer.client, v1.model, 1, level="meh")
        assert bad_level.status_code == 422
        assert "risk_level" in error_of(bad_level)["message"]
        asked = request_production(engineer.client, v1.model, 1).json()
        assert (
            engineer.client.post(f"{API}/approvals/{asked['id']}/approve", json={"reason": ""}).status_code
            == 422
        )
        duplicate = request_production(engineer.client, v1.model, 1)
        assert duplicate.status_code == 409
        assert "already has a pending approval request" in error_of(duplicate)["message"]

    def test_a_data_scientist_cannot_approve(self, app: FastAPI, engineer: Person, scientist: Person) -> None:
        [v1] = build_model(app)
        to_staging(engineer.client, v1.model, 1)
        asked = request_production(engineer.client, v1.model, 1).json()
        refused = decide(scientist.client, asked["id"], "approve")
        assert refused.status_code == 403
        assert "models:approve" in error_of(refused)["message"]


class TestSingleApproverPolicy:
    def test_a_project_admin_may_allow_single_approvers_on_the_record(
        self, app: FastAPI, client: object, engineer: Person, session: Session
    ) -> None:
        project_id = default_project_id(app)
        url = f"{API}/projects/{project_id}/registry-settings"
        assert engineer.client.get(url).json()["allow_single_approver"] is False
        assert engineer.client.put(url, json={"allow_single_approver": True}).status_code == 403
        admin = client  # the conftest's admin
        changed = admin.put(url, json={"allow_single_approver": True})  # type: ignore[attr-defined]
        assert changed.status_code == 200
        assert changed.json()["allow_single_approver"] is True
        record = session.scalar(select(AuditRecord).where(AuditRecord.action == "registry.settings_changed"))
        assert record is not None
        assert record.details == {"allow_single_approver": {"before": False, "after": True}}

        [v1] = build_model(app)
        to_staging(engineer.client, v1.model, 1)
        asked = request_production(engineer.client, v1.model, 1).json()
        assert decide(engineer.client, asked["id"], "approve").status_code == 200
        assert stages(engineer.client, v1.model) == {1: "production"}


class TestInbox:
    def test_pending_requests_of_my_projects_only(
        self, app: FastAPI, engineer: Person, approver: Person
    ) -> None:
        v1, _v2 = build_model(app, versions=2)
        to_staging(engineer.client, v1.model, 1)
        to_staging(engineer.client, v1.model, 2)
        first = request_production(engineer.client, v1.model, 1).json()
        decide(approver.client, first["id"], "reject", "not yet")
        second = request_production(engineer.client, v1.model, 2, level="critical").json()

        inbox = approver.client.get(f"{API}/approvals", params={"status": "pending"}).json()
        assert [(a["id"], a["model_name"], a["version_number"], a["risk_level"]) for a in inbox["items"]] == [
            (second["id"], v1.model, 2, "critical")
        ]
        everything = approver.client.get(f"{API}/approvals").json()["items"]
        assert [a["status"] for a in everything] == ["pending", "rejected"]

        outsider = make_account(app, role=Role.ml_engineer)
        with database(app).unit_of_work() as session:
            make_project(session, members={outsider.id: Role.ml_engineer.value})
        other = api(app, open_session(app, outsider).access_token)
        assert other.get(f"{API}/approvals").json()["items"] == []
        hidden = other.get(f"{API}/approvals/{second['id']}")
        assert hidden.status_code == 404
        assert decide(other, second["id"], "approve").status_code == 404
