"""Every mutating auth action leaves an audit record: who, what, on which target, in which request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.audit import chain
from kiln.auth.permissions import Role
from tests.auth.builders import spent_long_ago
from tests.builders.audit import audit_records
from tests.builders.auth import (
    STRONG_PASSWORD,
    api,
    default_project_id,
    make_account,
    open_session,
    setup_token,
)
from tests.builders.core import database
from tests.notify.mail_server import MailServer

ANOTHER_PASSWORD = "saffron-glacier-drifts-51"


@dataclass(frozen=True, slots=True)
class Expected:
    request_id: str
    action: str
    actor_id: str
    target_type: str
    target_id: str


class Recorder:
    """Sends each request with its own X-Request-ID and notes the record it should leave."""

    def __init__(self) -> None:
        self.expected: list[Expected] = []
        self._count = 0

    def send(self, client: TestClient, method: str, url: str, **kwargs: Any) -> tuple[str, httpx.Response]:
        self._count += 1
        request_id = f"req-{self._count:03d}"
        response = client.request(method, url, headers={"X-Request-ID": request_id}, **kwargs)
        assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text}"
        assert response.headers["x-request-id"] == request_id
        return request_id, response

    def expect(self, request_id: str, action: str, actor_id: str, target_type: str, target_id: str) -> None:
        self.expected.append(Expected(request_id, action, actor_id, target_type, target_id))

    def check(self, app: FastAPI) -> None:
        records = audit_records(app)
        found = [
            Expected(r.request_id, r.action, r.actor_id, r.target_type, r.target_id)
            for r in records
            if r.request_id.startswith("req-")
        ]
        assert found == self.expected
        with database(app).unit_of_work() as session:
            assert chain.verify_chain(session).ok


def test_an_account_lifecycle_is_recorded(mail_app: FastAPI, mail_server: MailServer) -> None:
    log = Recorder()
    anonymous = api(mail_app)

    rid, response = log.send(
        anonymous,
        "POST",
        "/api/v1/auth/register",
        json={
            "email": "owner@example.com",
            "password": STRONG_PASSWORD,
            "setup_token": setup_token(mail_app),
        },
    )
    user_id = response.json()["id"]
    default = default_project_id(mail_app)
    log.expect(rid, "project.created", "system", "project", default)
    log.expect(rid, "user.registered", user_id, "user", user_id)
    log.expect(rid, "project.member_set", user_id, "project", default)  # the first admin joins it

    token = mail_server.inbox.wait_for("owner@example.com", subject="Confirm").link_param(
        "/confirm-email", "token"
    )
    rid, _ = log.send(anonymous, "POST", "/api/v1/auth/confirm-email", json={"token": token})
    log.expect(rid, "user.email_confirmed", user_id, "user", user_id)

    rid, response = log.send(
        anonymous,
        "POST",
        "/api/v1/auth/login",
        json={"email": "owner@example.com", "password": STRONG_PASSWORD},
    )
    pair = response.json()
    log.expect(rid, "user.login", user_id, "user", user_id)
    me = api(mail_app, pair["access_token"])

    rid, _ = log.send(me, "PATCH", "/api/v1/me", json={"name": "Owner"})
    log.expect(rid, "user.profile_updated", user_id, "user", user_id)

    rid, _ = log.send(
        me,
        "POST",
        "/api/v1/me/password",
        json={"current_password": STRONG_PASSWORD, "new_password": ANOTHER_PASSWORD},
    )
    log.expect(rid, "user.password_changed", user_id, "user", user_id)

    rid, response = log.send(
        me,
        "POST",
        "/api/v1/me/api-keys",
        json={"name": "ci", "project_id": default_project_id(mail_app), "role": "viewer"},
    )
    key_id = response.json()["id"]
    log.expect(rid, "api_key.created", user_id, "api_key", key_id)
    rid, _ = log.send(me, "DELETE", f"/api/v1/me/api-keys/{key_id}")
    log.expect(rid, "api_key.revoked", user_id, "api_key", key_id)

    rid, _ = log.send(anonymous, "POST", "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    log.expect(rid, "user.logout", user_id, "user", user_id)

    rid, _ = log.send(anonymous, "POST", "/api/v1/auth/password-reset", json={"email": "owner@example.com"})
    log.expect(rid, "user.password_reset_requested", user_id, "user", user_id)
    token = mail_server.inbox.wait_for("owner@example.com", subject="Reset").link_param(
        "/reset-password", "token"
    )
    rid, _ = log.send(
        anonymous,
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": STRONG_PASSWORD},
    )
    log.expect(rid, "user.password_reset", user_id, "user", user_id)

    log.check(mail_app)


def test_administration_is_recorded_as_the_administrators_doing(mail_app: FastAPI) -> None:
    log = Recorder()
    admin = make_account(mail_app, role=Role.admin)
    client = api(mail_app, open_session(mail_app, admin).access_token)

    rid, response = log.send(
        client,
        "POST",
        "/api/v1/users",
        json={"email": "hire@example.com", "role": "viewer", "password": STRONG_PASSWORD},
    )
    hire = response.json()["id"]
    log.expect(rid, "user.created", admin.id, "user", hire)
    rid, _ = log.send(client, "PATCH", f"/api/v1/users/{hire}", json={"role": "data_scientist"})
    log.expect(rid, "user.updated", admin.id, "user", hire)
    rid, _ = log.send(client, "POST", f"/api/v1/users/{hire}/password-reset")
    log.expect(rid, "user.password_reset_by_admin", admin.id, "user", hire)
    rid, response = log.send(client, "POST", "/api/v1/invites", json={"email": "guest@example.com"})
    log.expect(rid, "user.invited", admin.id, "invite", response.json()["id"])

    rid, response = log.send(client, "POST", "/api/v1/projects", json={"name": "vision"})
    project = response.json()["id"]
    log.expect(rid, "project.created", admin.id, "project", project)
    log.expect(rid, "project.member_set", admin.id, "project", project)  # the creator joins it
    rid, _ = log.send(
        client, "PUT", f"/api/v1/projects/{project}/members", json={"user_id": hire, "role": "viewer"}
    )
    log.expect(rid, "project.member_set", admin.id, "project", project)
    rid, _ = log.send(client, "DELETE", f"/api/v1/projects/{project}/members/{hire}")
    log.expect(rid, "project.member_removed", admin.id, "project", project)

    log.check(mail_app)
    records = {r.action: r for r in audit_records(mail_app)}
    assert records["user.updated"].details == {"role": "data_scientist"}
    assert records["project.member_set"].details == {"user_id": hire, "role": "viewer"}
    assert records["user.created"].actor_name == admin.email


def test_a_replayed_refresh_token_is_recorded_as_a_revocation(app: FastAPI) -> None:
    account = make_account(app)
    pair = open_session(app, account)
    client = api(app)
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token}).status_code == 200
    spent_long_ago(app, pair.refresh_token)
    replay = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token}, headers={"X-Request-ID": "replay"}
    )
    assert replay.status_code == 401
    (record,) = [r for r in audit_records(app) if r.request_id == "replay"]
    assert (record.action, record.actor_kind, record.target_id) == ("session.revoked", "system", account.id)
    assert record.details["reason"] == "refresh_token_reuse"


def test_refused_requests_leave_no_record(app: FastAPI) -> None:
    account = make_account(app, role=Role.viewer)
    before = len(audit_records(app))
    client = api(app, open_session(app, account).access_token)
    assert (
        client.post("/api/v1/users", json={"email": "x@example.com", "password": STRONG_PASSWORD}).status_code
        == 403
    )
    assert client.patch(f"/api/v1/users/{account.id}", json={"role": "admin"}).status_code == 403
    assert (
        client.post(
            "/api/v1/me/password",
            json={"current_password": "wrong-one-entirely", "new_password": ANOTHER_PASSWORD},
        ).status_code
        == 400
    )
    assert len(audit_records(app)) == before
