"""What a new password ends: other reset links (M2) and, by the route's rule, the API keys (M1).

- a reset by mailed link: every other unused link dies; the keys are revoked unless asked not to;
- an admin reset: older links die (the link it mails works); the keys are always revoked;
- a password change: other links die; the keys are revoked only when asked.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kiln.auth import service
from kiln.auth.models import OneTimeToken
from kiln.auth.permissions import Role
from tests.api import error_of
from tests.builders.audit import audit_records
from tests.builders.auth import STRONG_PASSWORD, Account, api, default_project_id, make_member, open_session
from tests.builders.core import database
from tests.notify.mail_server import MailServer

CONFIRM = "/api/v1/auth/password-reset/confirm"
LINK_INVALID = "this link is invalid or has expired; ask for a new one"
NEW_PASSWORD = "another-" + STRONG_PASSWORD


def reset_link(app: FastAPI, account: Account) -> str:
    """A reset link's token as the mail would carry it (the mail itself is tested elsewhere)."""
    with database(app).unit_of_work() as session:
        return service.issue_link_token(
            session, "reset_password", account.email, ttl_seconds=3600, user_id=account.id
        )


def user_with_key(app: FastAPI) -> tuple[Account, TestClient, dict[str, Any]]:
    account = make_member(app, Role.data_scientist)
    client = api(app, open_session(app, account).access_token)
    created = client.post(
        "/api/v1/me/api-keys", json={"name": "ci", "project_id": default_project_id(app), "role": "viewer"}
    )
    assert created.status_code == 201
    return account, client, created.json()


def key_works(app: FastAPI, key: dict[str, Any]) -> bool:
    return api(app, key["key"]).get("/api/v1/me").status_code == 200


def confirm(app: FastAPI, token: str, password: str = STRONG_PASSWORD, **extra: Any) -> Any:
    return api(app).post(CONFIRM, json={"token": token, "new_password": password} | extra)


class TestOtherResetLinksDie:
    def test_spending_one_link_voids_the_others(self, app: FastAPI) -> None:
        account, _client, _key = user_with_key(app)
        first, second = reset_link(app, account), reset_link(app, account)
        assert confirm(app, first).status_code == 200
        late = confirm(app, second, NEW_PASSWORD)
        assert late.status_code == 400
        assert error_of(late)["message"] == LINK_INVALID
        login = api(app).post(
            "/api/v1/auth/login", json={"email": account.email, "password": STRONG_PASSWORD}
        )
        assert login.status_code == 200

    def test_a_password_change_voids_outstanding_links(self, app: FastAPI) -> None:
        account, client, _key = user_with_key(app)
        link = reset_link(app, account)
        changed = client.post(
            "/api/v1/me/password",
            json={"current_password": account.password, "new_password": STRONG_PASSWORD},
        )
        assert changed.status_code == 200
        assert confirm(app, link, NEW_PASSWORD).status_code == 400

    def test_an_admin_reset_voids_older_links_but_its_own_mail_works(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        account, _client, _key = user_with_key(mail_app)
        older = reset_link(mail_app, account)
        admin = api(mail_app, open_session(mail_app, make_member(mail_app, Role.admin)).access_token)
        assert admin.post(f"/api/v1/users/{account.id}/password-reset").status_code == 202
        assert confirm(mail_app, older).status_code == 400
        mailed = mail_server.inbox.wait_for(account.email, subject="Reset").link_param(
            "/reset-password", "token"
        )
        assert confirm(mail_app, mailed).status_code == 200


class TestApiKeysAfterANewPassword:
    def test_an_admin_reset_revokes_every_key_of_the_user(self, app: FastAPI) -> None:
        account, _client, key = user_with_key(app)
        admin = api(app, open_session(app, make_member(app, Role.admin)).access_token)
        assert admin.post(f"/api/v1/users/{account.id}/password-reset").status_code == 202
        assert not key_works(app, key)
        assert (
            api(app, key["key"]).post("/api/v1/experiments", json={"name": "after-reset"}).status_code == 401
        )
        (record,) = [r for r in audit_records(app) if r.action == "user.password_reset_by_admin"]
        assert record.details == {"api_keys_revoked": [key["id"]]}

    def test_a_reset_by_link_revokes_the_keys_unless_asked_not_to(self, app: FastAPI) -> None:
        account, _client, key = user_with_key(app)
        assert confirm(app, reset_link(app, account)).status_code == 200
        assert not key_works(app, key)

        other, _client, kept = user_with_key(app)
        assert confirm(app, reset_link(app, other), revoke_api_keys=False).status_code == 200
        assert key_works(app, kept)

    def test_a_password_change_keeps_the_keys_unless_asked_to_revoke_them(self, app: FastAPI) -> None:
        account, client, key = user_with_key(app)
        body = {"current_password": account.password, "new_password": STRONG_PASSWORD}
        assert client.post("/api/v1/me/password", json=body).status_code == 200
        assert key_works(app, key)

        body = {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD, "revoke_api_keys": True}
        assert client.post("/api/v1/me/password", json=body).status_code == 200
        assert not key_works(app, key)
        (listed,) = client.get("/api/v1/me/api-keys").json()["items"]
        assert listed["revoked_at"] is not None


class TestResetRequestsLookAlike:
    def test_an_unknown_address_leaves_the_same_kind_of_trace_as_a_known_one(self, app: FastAPI) -> None:
        # The timing cannot be tested honestly; the work can: a link row and an audit record each.
        account = make_member(app, Role.viewer)
        before = len(audit_records(app))
        for email in (account.email, "nobody@example.com"):
            response = api(app).post("/api/v1/auth/password-reset", json={"email": email})
            assert response.status_code == 202
        records = audit_records(app)[before:]
        assert [r.action for r in records] == ["user.password_reset_requested"] * 2
        assert (records[0].target_type, records[0].target_id) == ("user", account.id)
        assert records[1].target_type == "email"
        assert "nobody" not in str(records[1].details) + records[1].target_id  # a digest, not the address
        with database(app).unit_of_work() as session:
            links = session.scalars(
                select(OneTimeToken).where(OneTimeToken.purpose == "reset_password")
            ).all()
            assert sorted((link.email, link.user_id) for link in links) == sorted(
                [(account.email, account.id), ("nobody@example.com", None)]
            )
