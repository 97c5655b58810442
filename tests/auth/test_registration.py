"""Registration: the first account is the admin; after that the policy (invite, open) decides."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kiln.app import kiln_state
from kiln.auth import service
from kiln.auth.models import User
from kiln.auth.permissions import Role
from tests.api import error_of
from tests.auth.apps import BuildApp
from tests.builders.auth import (
    STRONG_PASSWORD,
    api,
    default_project_id,
    make_account,
    make_member,
    make_project,
    open_session,
    setup_token,
)
from tests.builders.core import database
from tests.notify.mail_server import MailServer

REGISTER = "/api/v1/auth/register"


def user_count(app: FastAPI) -> int:
    with database(app).unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


class TestPolicy:
    def test_the_first_user_becomes_admin_of_the_default_project(self, app: FastAPI) -> None:
        body = {"email": "Founder@Example.com", "password": STRONG_PASSWORD, "setup_token": setup_token(app)}
        response = api(app).post(REGISTER, json=body)
        assert response.status_code == 201
        founder = response.json()
        assert founder["role"] == "admin"
        assert founder["email"] == "founder@example.com"
        login = api(app).post(
            "/api/v1/auth/login", json={"email": "founder@example.com", "password": STRONG_PASSWORD}
        )
        assert login.status_code == 200
        projects = api(app, login.json()["access_token"]).get("/api/v1/projects").json()["items"]
        assert [(p["name"], p["my_role"]) for p in projects] == [("default", "admin")]

    def test_without_an_invitation_registration_is_refused_by_default(self, app: FastAPI) -> None:
        make_account(app, role=Role.admin)
        response = api(app).post(
            REGISTER, json={"email": "stranger@example.com", "password": STRONG_PASSWORD}
        )
        assert response.status_code == 403
        assert error_of(response)["message"] == (
            "registration needs an invitation; ask an administrator for one"
        )
        assert user_count(app) == 1

    def test_open_registration_makes_viewers(self, build_app: BuildApp) -> None:
        app = build_app(auth={"registration": "open"})
        make_account(app, role=Role.admin)
        response = api(app).post(REGISTER, json={"email": "reader@example.com", "password": STRONG_PASSWORD})
        assert response.status_code == 201
        assert response.json()["role"] == "viewer"

    def test_a_second_account_with_the_same_email_is_a_conflict(self, build_app: BuildApp) -> None:
        app = build_app(auth={"registration": "open"})
        existing = make_account(app, role=Role.admin)
        response = api(app).post(
            REGISTER, json={"email": existing.email.upper(), "password": STRONG_PASSWORD}
        )
        assert response.status_code == 409
        assert error_of(response)["code"] == "conflict"
        assert user_count(app) == 1


class TestFirstRun:
    def test_the_first_account_needs_the_setup_token_from_the_server_log(self, app: FastAPI) -> None:
        body = {"email": "squatter@example.com", "password": STRONG_PASSWORD}
        missing = api(app).post(REGISTER, json=body)
        assert missing.status_code == 403
        assert "setup token printed in the server log" in error_of(missing)["message"]
        wrong = api(app).post(REGISTER, json=body | {"setup_token": "guessed-token"})
        assert wrong.status_code == 400
        assert "setup token is not valid" in error_of(wrong)["message"]
        assert user_count(app) == 0

        assert api(app).post(REGISTER, json=body | {"setup_token": setup_token(app)}).status_code == 201
        # Spent: a second account follows the registration policy (by invitation here).
        again = {"email": "second@example.com", "password": STRONG_PASSWORD, "setup_token": setup_token(app)}
        assert api(app).post(REGISTER, json=again).status_code == 403
        assert user_count(app) == 1

    def test_a_server_with_accounts_prints_no_setup_token(self, build_app: BuildApp) -> None:
        first = build_app()
        assert isinstance(kiln_state(first).setup_token, str)
        make_account(first, role=Role.admin)
        assert kiln_state(build_app()).setup_token is None


class TestInvitation:
    def test_an_invitation_mail_leads_to_an_account_with_its_role_and_project(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        admin = make_member(mail_app, Role.admin)
        with database(mail_app).unit_of_work() as session:
            project_id = make_project(session, "vision").id
        admin_client = api(mail_app, open_session(mail_app, admin).access_token)
        invited = admin_client.post(
            "/api/v1/invites",
            json={"email": "Newcomer+cv@Example.com", "role": "data_scientist", "project_id": project_id},
        )
        assert invited.status_code == 201
        assert invited.json()["role"] == "data_scientist"

        mail = mail_server.inbox.wait_for("Newcomer+cv@Example.com", subject="invited")
        assert "data_scientist" in mail.body
        token = mail.link_param("/register", "invite")
        # The link fills in the address the invitation is for (a "+" must survive the query string).
        assert mail.link_param("/register", "email") == "newcomer+cv@example.com"

        response = api(mail_app).post(
            REGISTER,
            json={"email": "newcomer+cv@example.com", "password": STRONG_PASSWORD, "invite_token": token},
        )
        assert response.status_code == 201
        newcomer = response.json()
        assert newcomer["role"] == "data_scientist"
        members = admin_client.get(f"/api/v1/projects/{project_id}/members").json()
        assert {"email": "newcomer+cv@example.com", "role": "data_scientist"} in [
            {"email": m["email"], "role": m["role"]} for m in members
        ]

        # The invitation is spent.
        again = api(mail_app).post(
            REGISTER, json={"email": "other@example.com", "password": STRONG_PASSWORD, "invite_token": token}
        )
        assert again.status_code == 400

    def test_an_invitation_is_for_its_address_only(self, app: FastAPI) -> None:
        admin = make_account(app, role=Role.admin)
        admin_client = api(app, open_session(app, admin).access_token)
        assert admin_client.post("/api/v1/invites", json={"email": "a@example.com"}).status_code == 201
        token = _invite_token(app, "a@example.com")
        response = api(app).post(
            REGISTER, json={"email": "b@example.com", "password": STRONG_PASSWORD, "invite_token": token}
        )
        assert response.status_code == 400
        assert "another email address" in error_of(response)["message"]
        assert user_count(app) == 1

    def test_inviting_into_a_project_that_does_not_exist_is_not_found(self, app: FastAPI) -> None:
        admin = make_account(app, role=Role.admin)
        response = api(app, open_session(app, admin).access_token).post(
            "/api/v1/invites", json={"email": "x@example.com", "project_id": "no-such-project"}
        )
        assert response.status_code == 404

    def test_inviting_an_existing_account_is_a_conflict(self, app: FastAPI) -> None:
        admin = make_account(app, role=Role.admin)
        response = api(app, open_session(app, admin).access_token).post(
            "/api/v1/invites", json={"email": admin.email, "project_id": default_project_id(app)}
        )
        assert response.status_code == 409


def _invite_token(app: FastAPI, email: str) -> str:
    # Without a mail server, the invitation's token is only in the mail: issue a known one instead.
    with database(app).unit_of_work() as session:
        return service.issue_link_token(session, "invite", email, ttl_seconds=600, role="viewer")


class TestPasswordRules:
    @pytest.mark.parametrize(
        ("password", "rule"),
        [
            ("password123", "strength"),
            ("qwertyuiop", "strength"),
            ("reader@example.com", "strength"),
            ("Sh0rt!x", "min_length"),
            ("", None),
        ],
    )
    def test_weak_passwords_are_refused_with_the_rule(
        self, build_app: BuildApp, password: str, rule: str | None
    ) -> None:
        app = build_app(auth={"registration": "open"})
        body = {"email": "reader@example.com", "password": password, "setup_token": setup_token(app)}
        response = api(app).post(REGISTER, json=body)
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "validation_failed"
        if rule is not None:
            assert error["details"] == {"field": "password", "rule": rule}
            assert "password" in error["message"]
        assert user_count(app) == 0

    @pytest.mark.parametrize(
        "overrides",
        [
            {"name": "n" * 257},
            {"email": "a" * 64 + "@" + ("d" * 60 + ".") * 5 + "com"},
            {"email": "someone@" + "d" * 300 + ".com"},
            {"password": "correct horse battery staple " * 10},
            {"invite_token": "t" * 257},
            {"email": "not-an-email"},
            {"role": "admin"},
        ],
    )
    def test_oversized_or_unexpected_fields_are_refused(
        self, app: FastAPI, overrides: dict[str, str]
    ) -> None:
        body = {"email": "someone@example.com", "password": STRONG_PASSWORD, **overrides}
        response = api(app).post(REGISTER, json=body)
        assert response.status_code == 422
        assert error_of(response)["code"] == "validation_failed"
        assert user_count(app) == 0


class TestEmailConfirmation:
    def test_registration_mails_a_link_that_confirms_the_address_once(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        body = {
            "email": "first@example.com",
            "password": STRONG_PASSWORD,
            "setup_token": setup_token(mail_app),
        }
        response = api(mail_app).post(REGISTER, json=body)
        assert response.status_code == 201
        assert response.json()["email_confirmed_at"] is None

        mail = mail_server.inbox.wait_for("first@example.com", subject="Confirm")
        token = mail.link_param("/confirm-email", "token")
        confirmed = api(mail_app).post("/api/v1/auth/confirm-email", json={"token": token})
        assert confirmed.status_code == 200
        assert confirmed.json()["email_confirmed_at"] is not None

        again = api(mail_app).post("/api/v1/auth/confirm-email", json={"token": token})
        assert again.status_code == 400
        wrong = api(mail_app).post("/api/v1/auth/confirm-email", json={"token": "made-up"})
        assert wrong.status_code == 400
        assert error_of(wrong)["message"] == error_of(again)["message"]
