"""Logging in: answers that do not reveal which emails exist, and rate limits with Retry-After."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from kiln.auth.ratelimit import FREE_LOGIN_FAILURES
from tests.api import error_of
from tests.auth.apps import BuildApp
from tests.builders.auth import api, make_account, open_session, update_user

LOGIN = "/api/v1/auth/login"
LOGIN_FAILED = {"error": {"code": "unauthenticated", "message": "invalid email or password", "details": {}}}

RESET = "/api/v1/auth/password-reset"


def login(app: FastAPI, email: str, password: str) -> httpx.Response:
    return api(app).post(LOGIN, json={"email": email, "password": password})


class TestNoUserEnumeration:
    def test_unknown_email_wrong_password_and_deactivated_account_answer_identically(
        self, app: FastAPI
    ) -> None:
        account = make_account(app)
        inactive = make_account(app)
        update_user(app, inactive.id, is_active=False)
        answers = {
            "unknown email": login(app, "nobody@example.com", account.password),
            "wrong password": login(app, account.email, account.password + "x"),
            "deactivated": login(app, inactive.email, inactive.password),
        }
        assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 401)
        bodies = {name: r.json() for name, r in answers.items()}
        assert bodies == dict.fromkeys(answers, LOGIN_FAILED)

    def test_the_right_password_logs_in(self, app: FastAPI) -> None:
        account = make_account(app)
        response = login(app, f"  {account.email.upper()} ", account.password)
        assert response.status_code == 200
        pair = response.json()
        assert pair["token_type"] == "bearer"
        assert pair["expires_in"] == 15 * 60
        me = api(app, pair["access_token"]).get("/api/v1/me")
        assert me.json()["last_login_at"] is not None


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert error_of(response)["code"] == "rate_limited"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert error_of(response)["details"]["retry_after"] == retry_after


class TestRateLimits:
    def test_login_attempts_are_limited_per_email_and_address(self, build_app: BuildApp) -> None:
        app = build_app(auth={"login_rate_limit": "3/minute"})
        attempts = [login(app, "target@example.com", f"guess-number-{n}") for n in range(3)]
        assert [r.status_code for r in attempts] == [401, 401, 401]
        assert_rate_limited(login(app, "target@example.com", "guess-number-4"))
        # The limit is also per client address: another email from the same place is held back too.
        assert_rate_limited(login(app, "someone-else@example.com", "guess"))
        assert_rate_limited(api(app).post("/api/v1/auth/password-reset", json={"email": "x@example.com"}))

    def test_api_calls_are_limited_per_identity(self, build_app: BuildApp) -> None:
        app = build_app(auth={"rate_limit": "5/minute"})
        busy, quiet = make_account(app), make_account(app)
        busy_client = api(app, open_session(app, busy).access_token)
        assert [busy_client.get("/api/v1/me").status_code for _ in range(5)] == [200] * 5
        assert_rate_limited(busy_client.get("/api/v1/me"))
        assert api(app, open_session(app, quiet).access_token).get("/api/v1/me").status_code == 200


class TestPerEmailLimitsCannotLockAnAccount:
    def test_asking_for_reset_links_never_holds_back_a_login(self, build_app: BuildApp) -> None:
        app = build_app(auth={"login_rate_limit": "3/minute"})
        account = make_account(app)
        attacker = api(app, client=("203.0.113.66", 4000))
        reset = [attacker.post(RESET, json={"email": account.email}).status_code for _ in range(4)]
        assert reset == [202, 202, 202, 429]
        owner = api(app, client=("198.51.100.7", 4000))
        answer = owner.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
        assert answer.status_code == 200

    def test_failed_logins_for_one_email_slow_it_down_briefly_rather_than_lock_it(
        self, build_app: BuildApp
    ) -> None:
        app = build_app(auth={"login_rate_limit": "100/minute"})
        account, bystander = make_account(app), make_account(app)
        # Guesses from many addresses: the per-address limit does not see them.
        for n in range(FREE_LOGIN_FAILURES):
            guess = api(app, client=(f"203.0.113.{n}", 4000))
            assert (
                guess.post("/api/v1/auth/login", json={"email": account.email, "password": "x"}).status_code
                == 401
            )
        owner = api(app, client=("198.51.100.7", 4000))
        slowed = owner.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
        assert_rate_limited(slowed)
        assert int(slowed.headers["retry-after"]) == 1  # a second (growing with more failures), not a minute
        other = owner.post(
            "/api/v1/auth/login", json={"email": bystander.email, "password": bystander.password}
        )
        assert other.status_code == 200
