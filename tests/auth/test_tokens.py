"""Access tokens, refresh rotation with reuse detection, logout, and changes that apply at once."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from fastapi import FastAPI

from kiln.auth.permissions import Role
from tests.auth.builders import forge_access_token, spent_long_ago
from tests.builders.auth import (
    api,
    auth_config,
    default_project_id,
    make_account,
    make_member,
    open_session,
    update_user,
)

INVALID_TOKEN = {"error": {"code": "unauthenticated", "message": "invalid or expired token", "details": {}}}


def status_of(app: FastAPI, token: str, path: str = "/api/v1/me") -> int:
    return api(app, token).get(path).status_code


class TestAccessTokens:
    def test_a_token_signed_with_the_server_secret_within_its_lifetime_is_accepted(
        self, app: FastAPI
    ) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        sid = _session_id(app, pair.access_token)
        token = forge_access_token(secret=auth_config(app).secret_key, subject=account.id, session_id=sid)
        response = api(app, token).get("/api/v1/me")
        assert response.status_code == 200
        assert response.json()["email"] == account.email

    def test_bad_tokens_get_one_answer_that_does_not_say_why(self, app: FastAPI) -> None:
        account = make_account(app)
        sid = _session_id(app, open_session(app, account).access_token)
        secret = auth_config(app).secret_key

        def forged(**kwargs: object) -> str:
            return forge_access_token(subject=account.id, session_id=sid, **kwargs)  # type: ignore[arg-type]

        bad = {
            "expired": forged(secret=secret, issued=timedelta(minutes=20), lifetime=timedelta(minutes=15)),
            "wrong secret": forged(secret="another-secret-key-of-sufficient-length-000"),
            "not an access token": forged(secret=secret, typ="refresh"),
            "unknown session": forge_access_token(secret=secret, subject=account.id, session_id="nope"),
            "unknown user": forge_access_token(secret=secret, subject="nobody", session_id=sid),
            "alg none": _unsigned(),
            "garbage": "not-a-token",
            "three dots": "a.b.c",
            "truncated": forged(secret=secret)[:-5],
            "api key lookalike": "kiln_" + "x" * 43,
        }
        answers = {name: api(app, token).get("/api/v1/me") for name, token in bad.items()}
        assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(bad, 401)
        assert {name: r.json() for name, r in answers.items()} == dict.fromkeys(bad, INVALID_TOKEN)

    def test_no_credential_is_asked_for_plainly(self, app: FastAPI) -> None:
        response = api(app).get("/api/v1/me")
        assert response.status_code == 401
        assert "Authorization: Bearer" in response.json()["error"]["message"]


def _session_id(app: FastAPI, access_token: str) -> str:
    claims = jwt.decode(access_token, auth_config(app).secret_key, algorithms=["HS256"])
    return str(claims["sid"])


def _unsigned() -> str:
    return jwt.encode({"sub": "x", "typ": "access", "exp": 4102444800, "iat": 0}, None, algorithm="none")


class TestRefresh:
    def test_a_refreshed_pair_works_and_the_next_refresh_rotates_again(self, app: FastAPI) -> None:
        account = make_account(app)
        first = open_session(app, account)
        client = api(app)
        response = client.post("/api/v1/auth/refresh", json={"refresh_token": first.refresh_token})
        assert response.status_code == 200
        second = response.json()
        assert second["refresh_token"] != first.refresh_token
        assert status_of(app, second["access_token"]) == 200
        third = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert third.status_code == 200
        assert status_of(app, third.json()["access_token"]) == 200

    def test_reusing_a_spent_refresh_token_revokes_the_whole_session(self, app: FastAPI) -> None:
        account = make_account(app)
        stolen = open_session(app, account)
        other_login = open_session(app, account)
        client = api(app)
        newest = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen.refresh_token}).json()
        assert status_of(app, newest["access_token"]) == 200

        spent_long_ago(app, stolen.refresh_token)  # replayed after the grace window
        replay = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen.refresh_token})
        assert replay.status_code == 401
        assert replay.json() == INVALID_TOKEN
        # Every token of the session is dead, the newest ones included...
        assert status_of(app, newest["access_token"]) == 401
        assert status_of(app, stolen.access_token) == 401
        again = client.post("/api/v1/auth/refresh", json={"refresh_token": newest["refresh_token"]})
        assert again.status_code == 401
        # ...and only that session: the user's other login is untouched.
        assert status_of(app, other_login.access_token) == 200

    def test_an_unknown_refresh_token_is_refused(self, app: FastAPI) -> None:
        response = api(app).post("/api/v1/auth/refresh", json={"refresh_token": "kr_made-up"})
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN

    def test_a_deactivated_user_cannot_refresh(self, app: FastAPI) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        update_user(app, account.id, is_active=False)
        response = api(app).post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
        assert response.status_code == 401


class TestLogout:
    def test_logout_ends_the_session_and_only_that_one(self, app: FastAPI) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        other = open_session(app, account)
        client = api(app)
        response = client.post("/api/v1/auth/logout", json={"refresh_token": pair.refresh_token})
        assert response.status_code == 200
        assert status_of(app, pair.access_token) == 401
        refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
        assert refresh.status_code == 401
        assert status_of(app, other.access_token) == 200

    def test_logging_out_twice_or_with_an_unknown_token_answers_the_same(self, app: FastAPI) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        client = api(app)
        answers = [
            client.post("/api/v1/auth/logout", json={"refresh_token": token})
            for token in (pair.refresh_token, pair.refresh_token, "kr_unknown")
        ]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert answers[0].json() == answers[1].json() == answers[2].json()


class TestChangesApplyOnTheNextRequest:
    def test_deactivation_stops_the_users_tokens_and_api_keys_at_once(self, app: FastAPI) -> None:
        admin = make_member(app, Role.admin)
        user = make_member(app, Role.data_scientist)
        admin_client = api(app, open_session(app, admin).access_token)
        user_token = open_session(app, user).access_token
        created = api(app, user_token).post(
            "/api/v1/me/api-keys",
            json={"name": "ci", "project_id": default_project_id(app), "role": "data_scientist"},
        )
        assert created.status_code == 201
        key = created.json()["key"]
        assert status_of(app, user_token) == 200
        assert status_of(app, key) == 200

        response = admin_client.patch(f"/api/v1/users/{user.id}", json={"is_active": False})
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert status_of(app, user_token) == 401
        assert status_of(app, key) == 401
        assert api(app, key).get("/api/v1/projects").status_code == 401

        # Reactivation lets the keys work again, but the ended login sessions stay ended.
        assert admin_client.patch(f"/api/v1/users/{user.id}", json={"is_active": True}).status_code == 200
        assert status_of(app, key) == 200
        assert status_of(app, user_token) == 401

    def test_a_lowered_role_applies_to_the_existing_token_and_keys(self, app: FastAPI) -> None:
        admin = make_member(app, Role.admin)
        other_admin = make_member(app, Role.admin)
        token = open_session(app, other_admin).access_token
        key = (
            api(app, token)
            .post(
                "/api/v1/me/api-keys",
                json={"name": "ops", "scope": "global", "role": "admin"},
            )
            .json()["key"]
        )
        assert status_of(app, token, "/api/v1/users") == 200
        assert status_of(app, key, "/api/v1/users") == 200

        demote = api(app, open_session(app, admin).access_token).patch(
            f"/api/v1/users/{other_admin.id}", json={"role": "ml_engineer"}
        )
        assert demote.status_code == 200
        refused = api(app, token).get("/api/v1/users")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "permission_denied"
        # A global key is an administrator's: it stops working altogether.
        assert status_of(app, key) == 401
        me = api(app, token).get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["role"] == "ml_engineer"

    def test_an_admin_cannot_lock_themselves_out(self, app: FastAPI) -> None:
        admin = make_account(app, role=Role.admin)
        client = api(app, open_session(app, admin).access_token)
        for change in ({"is_active": False}, {"role": "viewer"}):
            response = client.patch(f"/api/v1/users/{admin.id}", json=change)
            assert response.status_code == 400
            assert "cannot deactivate or demote themselves" in response.json()["error"]["message"]
        assert client.get("/api/v1/users").status_code == 200


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_other_authorization_schemes_count_as_no_credential(app: FastAPI, header: str) -> None:
    response = api(app).get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("authentication required")
