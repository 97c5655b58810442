"""Administration over the API: users, roles, password resets by mail, and a user's activity."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.builders.auth import (
    STRONG_PASSWORD,
    Account,
    api,
    default_project_id,
    make_account,
    make_member,
    open_session,
)
from tests.notify.mail_server import MailServer


def admin_client(app: FastAPI) -> tuple[TestClient, Account]:
    admin = make_account(app, role=Role.admin)
    return api(app, open_session(app, admin).access_token), admin


class TestUsers:
    def test_an_admin_lists_creates_and_changes_users(self, app: FastAPI) -> None:
        client, admin = admin_client(app)
        created = client.post(
            "/api/v1/users",
            json={
                "email": "Analyst@Example.com",
                "name": "Ana",
                "role": "data_scientist",
                "password": STRONG_PASSWORD,
            },
        )
        assert created.status_code == 201
        user = created.json()
        assert (user["email"], user["role"], user["is_active"]) == (
            "analyst@example.com",
            "data_scientist",
            True,
        )
        assert set(user) >= {"id", "email", "role"}
        assert "password" not in created.text

        listed = client.get("/api/v1/users").json()["items"]
        assert [u["email"] for u in listed] == [admin.email, "analyst@example.com"]

        changed = client.patch(
            f"/api/v1/users/{user['id']}", json={"role": "ml_engineer", "is_active": False}
        )
        assert changed.status_code == 200
        fetched = client.get(f"/api/v1/users/{user['id']}").json()
        assert (fetched["role"], fetched["is_active"]) == ("ml_engineer", False)

    def test_unknown_users_and_roles_are_refused(self, app: FastAPI) -> None:
        client, _ = admin_client(app)
        assert client.get("/api/v1/users/no-such-user").status_code == 404
        assert client.patch("/api/v1/users/no-such-user", json={"role": "viewer"}).status_code == 404
        response = client.post(
            "/api/v1/users", json={"email": "x@example.com", "role": "overlord", "password": STRONG_PASSWORD}
        )
        assert response.status_code == 422

    def test_non_admins_get_403_on_every_user_route(self, app: FastAPI) -> None:
        engineer = make_member(app, Role.ml_engineer)
        client = api(app, open_session(app, engineer).access_token)
        answers = [
            client.get("/api/v1/users"),
            client.get(f"/api/v1/users/{engineer.id}"),
            client.get(f"/api/v1/users/{engineer.id}/activity"),
            client.patch(f"/api/v1/users/{engineer.id}", json={"role": "admin"}),
            client.post(f"/api/v1/users/{engineer.id}/password-reset"),
            client.post("/api/v1/invites", json={"email": "friend@example.com", "role": "admin"}),
        ]
        assert [r.status_code for r in answers] == [403] * len(answers)
        assert client.get("/api/v1/me").json()["role"] == "ml_engineer"


class TestPasswordResetByAdmin:
    def test_the_user_gets_a_reset_mail_and_is_logged_out(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        client, _ = admin_client(mail_app)
        user = make_account(mail_app)
        their_session = open_session(mail_app, user)
        response = client.post(f"/api/v1/users/{user.id}/password-reset")
        assert response.status_code == 202

        mail = mail_server.inbox.wait_for(user.email, subject="Reset your Kiln password")
        token = mail.link_param("/reset-password", "token")
        assert api(mail_app, their_session.access_token).get("/api/v1/me").status_code == 401
        # The old password is void too, until the user sets a new one through the link.
        old = api(mail_app).post("/api/v1/auth/login", json={"email": user.email, "password": user.password})
        assert old.status_code == 401
        confirm = api(mail_app).post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": STRONG_PASSWORD}
        )
        assert confirm.status_code == 200
        new = api(mail_app).post(
            "/api/v1/auth/login", json={"email": user.email, "password": STRONG_PASSWORD}
        )
        assert new.status_code == 200

    def test_resetting_an_unknown_user_is_not_found(self, app: FastAPI) -> None:
        client, _ = admin_client(app)
        assert client.post("/api/v1/users/no-such-user/password-reset").status_code == 404


class TestActivity:
    def test_an_admin_sees_what_a_user_did_newest_first(self, app: FastAPI) -> None:
        client, admin = admin_client(app)
        user = make_member(app, Role.data_scientist)
        user_client = api(app, open_session(app, user).access_token)
        assert user_client.patch("/api/v1/me", json={"name": "Dana"}).status_code == 200
        key = user_client.post(
            "/api/v1/me/api-keys",
            json={"name": "ci", "project_id": default_project_id(app), "role": "viewer"},
        ).json()
        assert user_client.delete(f"/api/v1/me/api-keys/{key['id']}").status_code == 200
        assert client.patch(f"/api/v1/users/{user.id}", json={"role": "viewer"}).status_code == 200

        response = client.get(f"/api/v1/users/{user.id}/activity")
        assert response.status_code == 200
        records = response.json()["items"]
        # What the user did, and what was done to their account (by the admin, by the system).
        assert [r["action"] for r in records] == [
            "user.updated",
            "api_key.revoked",
            "api_key.created",
            "user.profile_updated",
            "user.created",
        ]
        assert [r["actor_id"] for r in records[1:4]] == [user.id] * 3
        assert records[0]["actor_id"] == admin.id
        assert records[3]["details"] == {"name": "Dana"}
        assert records[1]["target_id"] == key["id"]

        admin_activity = client.get(f"/api/v1/users/{admin.id}/activity").json()["items"]
        assert admin_activity[0]["action"] == "user.updated"
        assert admin_activity[0]["target_id"] == user.id
        assert admin_activity[0]["details"] == {"role": "viewer"}

    def test_activity_of_an_unknown_user_is_not_found(self, app: FastAPI) -> None:
        client, _ = admin_client(app)
        assert client.get("/api/v1/users/no-such-user/activity").status_code == 404
