"""Resetting a forgotten password by email, through a real SMTP server, end to end."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import update

from kiln.auth.models import OneTimeToken
from kiln.core.ids import utcnow
from tests.api import error_of
from tests.builders.auth import STRONG_PASSWORD, api, make_account, open_session
from tests.builders.core import database
from tests.notify.mail_server import MailServer

RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"


def reset_token(app: FastAPI, mail_server: MailServer, email: str) -> str:
    response = api(app).post(RESET, json={"email": email})
    assert response.status_code == 202
    mail = mail_server.inbox.wait_for(email, subject="Reset")
    return mail.link_param("/reset-password", "token")


def login_status(app: FastAPI, email: str, password: str) -> int:
    return api(app).post("/api/v1/auth/login", json={"email": email, "password": password}).status_code


class TestResetByEmail:
    def test_the_mailed_link_sets_a_new_password_and_ends_every_session(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        account = make_account(mail_app)
        sessions = [open_session(mail_app, account) for _ in range(2)]

        response = api(mail_app).post(RESET, json={"email": account.email.upper()})
        assert response.status_code == 202
        mail = mail_server.inbox.wait_for(account.email, subject="Reset your Kiln password")
        assert "60 minutes" in mail.body
        token = mail.link_param("/reset-password", "token")

        confirmed = api(mail_app).post(CONFIRM, json={"token": token, "new_password": STRONG_PASSWORD})
        assert confirmed.status_code == 200

        assert login_status(mail_app, account.email, STRONG_PASSWORD) == 200
        assert login_status(mail_app, account.email, account.password) == 401
        for pair in sessions:
            assert api(mail_app, pair.access_token).get("/api/v1/me").status_code == 401
            refresh = api(mail_app).post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
            assert refresh.status_code == 401

        again = api(mail_app).post(
            CONFIRM, json={"token": token, "new_password": "another-" + STRONG_PASSWORD}
        )
        assert again.status_code == 400
        assert error_of(again)["message"] == "this link is invalid or has expired; ask for a new one"

    def test_an_expired_link_is_refused_and_the_password_stays(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        account = make_account(mail_app)
        token = reset_token(mail_app, mail_server, account.email)
        with database(mail_app).unit_of_work() as session:  # an hour and a bit goes by
            session.execute(
                update(OneTimeToken)
                .where(OneTimeToken.email == account.email)
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
        response = api(mail_app).post(CONFIRM, json={"token": token, "new_password": STRONG_PASSWORD})
        assert response.status_code == 400
        assert error_of(response)["message"] == "this link is invalid or has expired; ask for a new one"
        assert login_status(mail_app, account.email, account.password) == 200

    def test_a_weak_new_password_is_refused_and_the_link_still_works(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        account = make_account(mail_app)
        token = reset_token(mail_app, mail_server, account.email)
        weak = api(mail_app).post(CONFIRM, json={"token": token, "new_password": "password123"})
        assert weak.status_code == 422
        assert error_of(weak)["details"]["rule"] == "strength"
        strong = api(mail_app).post(CONFIRM, json={"token": token, "new_password": STRONG_PASSWORD})
        assert strong.status_code == 200

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        account = make_account(mail_app)
        unknown = api(mail_app).post(RESET, json={"email": "nobody@example.com"})
        known = api(mail_app).post(RESET, json={"email": account.email})
        assert (
            (unknown.status_code, unknown.json())
            == (known.status_code, known.json())
            == (
                202,
                {"status": "accepted"},
            )
        )
        # The known address's mail arrives; by then the unknown one's would have been sent as well.
        mail_server.inbox.wait_for(account.email, subject="Reset")
        mail_server.inbox.assert_quiet("nobody@example.com", for_seconds=0.5)
        assert [mail.recipients for mail in mail_server.inbox.messages] == [[account.email]]

    def test_a_reset_link_cannot_confirm_an_email_and_the_other_way_round(
        self, mail_app: FastAPI, mail_server: MailServer
    ) -> None:
        account = make_account(mail_app)
        token = reset_token(mail_app, mail_server, account.email)
        response = api(mail_app).post("/api/v1/auth/confirm-email", json={"token": token})
        assert response.status_code == 400
        assert (
            api(mail_app).post(CONFIRM, json={"token": token, "new_password": STRONG_PASSWORD}).status_code
            == 200
        )
