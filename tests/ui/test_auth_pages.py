"""Logging in and out of the web UI: cookies, redirects, transparent refresh, CSRF, registration, resets."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from kiln.app import create_app, kiln_state
from kiln.auth import service
from kiln.auth.permissions import Role
from kiln.core.db import Database
from kiln.core.security import encode_access_token
from kiln.core.settings import Settings
from kiln.ui.audit import audit_page
from kiln.ui.auth import account_pages, admin_pages, auth_pages, projects_page
from kiln.ui.serving import deployment_page, try_page
from kiln.ui.session import safe_next
from kiln.ui.tracking import experiments, run_page
from tests.auth.builders import spent_long_ago
from tests.builders.auth import PASSWORD, make_account, open_session, setup_token
from tests.ui.html_tree import get_page, parse_html
from tests.ui.sessions import form_token, log_in, submit, use_session

NEW_PASSWORD = "violet-harbour-drifting-41"


def set_cookies(response_headers: list[str]) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the raw header, attributes included)."""
    return {header.split("=", 1)[0]: header for header in response_headers}


def nav_labels(client: TestClient) -> set[str]:
    page = get_page(client, "/experiments")
    return {link.text() for link in page.find("nav", aria_label="Main").find_all("a")}


class TestLoginRequired:
    @pytest.mark.parametrize(
        "path",
        ["/experiments", "/experiments/some-id?filter=x", "/runs/some-run", "/compare?ids=a,b", "/profile"],
    )
    def test_an_anonymous_visitor_is_sent_to_the_login_page(self, client: TestClient, path: str) -> None:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        assert location.path == "/login"
        assert parse_qs(location.query).get("next", ["/experiments"]) == [path]

    def test_logging_in_returns_to_the_page_asked_for(self, client: TestClient, app: FastAPI) -> None:
        account = make_account(app)
        path = "/experiments/some-id?filter=x&order_by=name"
        login_url = client.get(path, follow_redirects=False).headers["location"]
        login_page = parse_html(client.get(login_url).text)
        assert login_page.find("input", name="next").attrs["value"] == path
        after = log_in(client, account.email, account.password, next_path=path)
        assert after.status_code == 303
        assert after.headers["location"] == path

    def test_a_fresh_install_sends_the_first_visitor_to_set_up_an_admin(self, client: TestClient) -> None:
        response = client.get("/login", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/register"
        assert "Set up Kiln" in client.get("/register").text

    def test_a_link_from_another_site_reloads_before_asking_to_log_in(self, client: TestClient) -> None:
        # The SameSite=Strict refresh cookie is not sent on a cross-site navigation; a reload sends it.
        response = client.get(
            "/experiments", headers={"sec-fetch-site": "cross-site"}, follow_redirects=False
        )
        assert response.status_code == 200
        assert 'http-equiv="refresh"' in response.text
        assert "/login?next=%2Fexperiments" not in response.text  # the default target needs no next
        assert 'href="/login"' in response.text


class TestLogin:
    def test_sets_http_only_session_cookies_and_shows_who_is_logged_in(
        self, client: TestClient, app: FastAPI
    ) -> None:
        account = make_account(app, role=Role.data_scientist)
        response = log_in(client, account.email, account.password)
        assert response.status_code == 303
        assert response.headers["location"] == "/experiments"
        cookies = set_cookies(response.headers.get_list("set-cookie"))
        access, refresh = cookies["kiln_access"].lower(), cookies["kiln_refresh"].lower()
        for attribute in ("httponly", "path=/"):
            assert attribute in access
            assert attribute in refresh
        assert "samesite=lax" in access
        assert "samesite=strict" in refresh
        # Plain http here: Secure would stop the browser from sending them back.
        assert "secure" not in access

        page = get_page(client, "/experiments")
        menu = page.find("details", data_account_menu="")
        assert account.email in menu.text()
        assert {"Profile", "API keys"} <= {link.text() for link in menu.find_all("a")}
        assert menu.find("button").text() == "Log out"

    def test_cookies_are_secure_over_https(self, app: FastAPI) -> None:
        account = make_account(app)
        with TestClient(app, base_url="https://kiln.example") as client:
            response = log_in(client, account.email, account.password)
        cookies = set_cookies(response.headers.get_list("set-cookie"))
        assert "secure" in cookies["kiln_access"].lower()
        assert "secure" in cookies["kiln_refresh"].lower()

    @pytest.mark.parametrize("email", ["known", "nobody@example.com"])
    def test_a_wrong_password_or_unknown_email_gets_one_generic_message_and_no_cookie(
        self, client: TestClient, app: FastAPI, email: str
    ) -> None:
        account = make_account(app)
        response = log_in(client, account.email if email == "known" else email, "not-the-password-at-all")
        assert response.status_code == 401
        assert "kiln_access" not in response.headers.get("set-cookie", "")
        page = parse_html(response.text)
        assert page.find(id="form-error").text() == "Invalid email or password"
        assert page.find("input", name="email").attrs["value"]  # kept, so only the password is retyped
        assert client.get("/experiments", follow_redirects=False).status_code == 303

    def test_a_deactivated_user_cannot_log_in(self, client: TestClient, app: FastAPI, db: Database) -> None:
        account = make_account(app)
        with db.unit_of_work() as session:
            service.get_user(session, account.id).is_active = False
        response = log_in(client, account.email, account.password)
        assert response.status_code == 401
        assert "Invalid email or password" in response.text

    def test_never_sends_the_browser_to_another_site(self, client: TestClient, app: FastAPI) -> None:
        account = make_account(app)
        response = log_in(client, account.email, account.password, next_path="//evil.example/phish")
        assert response.status_code == 303
        assert response.headers["location"] == "/experiments"

    def test_a_logged_in_user_opening_the_login_page_goes_on(self, client: TestClient, app: FastAPI) -> None:
        use_session(client, app, make_account(app))
        response = client.get("/login?next=/projects", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/projects"

    def test_is_throttled_like_the_api(self, settings: Settings) -> None:
        strict = create_app(settings.with_sections(auth={"login_rate_limit": "3/minute"}), migrate=False)
        account = make_account(strict)
        with TestClient(strict) as client:
            token = form_token(client, "/login")
            wrong = {"csrf_token": token, "email": account.email, "password": "wrong"}
            statuses = [client.post("/login", data=wrong).status_code for _ in range(4)]
            blocked = client.post(
                "/login", data={"csrf_token": token, "email": account.email, "password": account.password}
            )
        kiln_state(strict).db.dispose()
        assert statuses == [401, 401, 401, 429]
        assert blocked.status_code == 429
        assert "too many requests" in blocked.text.lower()
        assert int(blocked.headers["retry-after"]) > 0
        assert "kiln_access" not in blocked.headers.get("set-cookie", "")


class TestSessionLifetime:
    def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie(
        self, client: TestClient, app: FastAPI
    ) -> None:
        account = make_account(app)
        pair = open_session(app, account)
        claims = {"sub": account.id, "sid": "whatever"}
        expired = encode_access_token(
            claims, secret=kiln_state(app).auth_config.secret_key, ttl=timedelta(seconds=-5)
        )
        client.cookies.set("kiln_access", expired)
        client.cookies.set("kiln_refresh", pair.refresh_token)

        response = client.get("/experiments", follow_redirects=False)
        assert response.status_code == 200
        renewed = set_cookies(response.headers.get_list("set-cookie"))
        assert {"kiln_access", "kiln_refresh"} <= set(renewed)
        assert pair.refresh_token not in renewed["kiln_refresh"]  # rotated
        assert client.get("/experiments", follow_redirects=False).status_code == 200

        # The spent refresh token, presented again after the grace window, is a theft signal: the
        # whole session ends.
        spent_long_ago(app, pair.refresh_token)
        with TestClient(app) as thief:
            thief.cookies.set("kiln_refresh", pair.refresh_token)
            assert thief.get("/experiments", follow_redirects=False).status_code == 303
        assert client.get("/experiments", follow_redirects=False).status_code == 303

    def test_dead_cookies_are_removed_on_the_way_to_the_login_page(self, client: TestClient) -> None:
        client.cookies.set("kiln_access", "not-a-token")
        client.cookies.set("kiln_refresh", "kr_not-a-token")
        response = client.get("/experiments", follow_redirects=False)
        assert response.status_code == 303
        cleared = set_cookies(response.headers.get_list("set-cookie"))
        assert 'kiln_access=""' in cleared["kiln_access"]
        assert "max-age=0" in cleared["kiln_access"].lower()
        assert "max-age=0" in cleared["kiln_refresh"].lower()

    def test_logout_ends_the_session_for_good(self, client: TestClient, app: FastAPI) -> None:
        account = make_account(app)
        log_in(client, account.email, account.password)
        old_access = client.cookies["kiln_access"]
        old_refresh = client.cookies["kiln_refresh"]

        response = submit(client, "/experiments", "/logout", {})
        assert response.status_code == 303
        assert response.headers["location"] == "/login?notice=logged_out"
        cleared = set_cookies(response.headers.get_list("set-cookie"))
        assert "max-age=0" in cleared["kiln_access"].lower()
        assert "max-age=0" in cleared["kiln_refresh"].lower()
        assert "You are logged out" in client.get(response.headers["location"]).text

        # Cookies kept by a copy (another tab, a stolen jar) no longer open anything.
        with TestClient(app) as copy:
            copy.cookies.set("kiln_access", old_access)
            copy.cookies.set("kiln_refresh", old_refresh)
            assert copy.get("/experiments", follow_redirects=False).status_code == 303
            assert (
                copy.get("/api/v1/me", headers={"authorization": f"Bearer {old_access}"}).status_code == 401
            )

    def test_logout_without_the_form_token_is_refused(self, client: TestClient, app: FastAPI) -> None:
        use_session(client, app, make_account(app))
        response = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
        assert response.status_code == 403
        assert client.get("/experiments", follow_redirects=False).status_code == 200


class TestCsrf:
    def test_a_post_without_or_with_a_wrong_token_is_refused_and_changes_nothing(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        account = make_account(app)
        use_session(client, app, account)
        for data in ({"name": "Mallory"}, {"name": "Mallory", "csrf_token": "x" * 43}):
            response = client.post("/profile", data=data, follow_redirects=False)
            assert response.status_code == 403
            assert "did not come from Kiln" in response.text
        # A token from another user's session does not pass either.
        other = make_account(app)
        with TestClient(app) as other_client:
            use_session(other_client, app, other)
            foreign = form_token(other_client, "/profile")
        assert client.post("/profile", data={"name": "Mallory", "csrf_token": foreign}).status_code == 403
        with db.unit_of_work() as session:
            assert service.get_user(session, account.id).name == ""

    def test_every_form_post_of_the_ui_checks_the_token(self, client: TestClient, app: FastAPI) -> None:
        use_session(client, app, make_account(app, role=Role.admin))
        modules = (auth_pages, account_pages, admin_pages, projects_page, audit_page, experiments, run_page)
        modules += (deployment_page, try_page)
        posts = [
            route.path
            for module in modules
            for route in module.router.routes
            if isinstance(route, APIRoute) and "POST" in route.methods
        ]
        assert len(posts) >= 15  # every form of the UI, found rather than listed by hand
        for path in posts:
            url = re.sub(r"\{[^}]+\}", "some-id", path)
            response = client.post(url, data={"csrf_token": "forged", "email": "x@example.com"})
            assert response.status_code == 403, path

    def test_the_token_survives_a_session_refresh(self, client: TestClient, app: FastAPI) -> None:
        account = make_account(app)
        log_in(client, account.email, account.password)
        token = form_token(client, "/profile")
        del client.cookies["kiln_access"]  # expired in the browser; the refresh cookie renews it
        response = client.post("/profile", data={"csrf_token": token, "name": "Ada"}, follow_redirects=False)
        assert response.status_code == 303

    def test_the_login_form_needs_its_token_too(self, client: TestClient, app: FastAPI) -> None:
        account = make_account(app)
        client.get("/login")
        data = {"email": account.email, "password": account.password}
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "kiln_access" not in response.headers.get("set-cookie", "")
        # Without the kiln_csrf cookie, a token copied from a page is worthless.
        token = form_token(client, "/login")
        del client.cookies["kiln_csrf"]
        response = client.post("/login", data={**data, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403


class TestRegistration:
    def test_the_first_account_becomes_admin_and_can_use_every_page(
        self, client: TestClient, app: FastAPI
    ) -> None:
        data = {
            "email": "Founder@Example.com",
            "name": "Fran",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        }
        # The link in the server log pre-fills the setup token.
        page_url = f"/register?setup={setup_token(app)}"
        assert get_page(client, page_url).find("input", name="setup_token").attrs["value"] == setup_token(app)
        response = submit(client, page_url, "/register", data | {"setup_token": setup_token(app)})
        assert response.status_code == 303
        login_page = get_page(client, response.headers["location"])
        assert "Your account is ready" in login_page.text()
        assert login_page.find("input", name="email").attrs["value"] == "founder@example.com"

        assert log_in(client, "founder@example.com", PASSWORD).status_code == 303
        assert {"Experiments", "Projects", "Admin", "Audit"} <= nav_labels(client)
        for path in ("/experiments", "/projects", "/admin/users", "/audit", "/profile", "/api-keys"):
            assert client.get(path).status_code == 200, path

    def test_later_accounts_need_an_invitation(self, client: TestClient, app: FastAPI, db: Database) -> None:
        make_account(app, role=Role.admin)
        page = get_page(client, "/register")
        assert not page.find_all("form", id="register-form")
        assert "by invitation" in page.text()
        data = {"email": "walk-in@example.com", "password": PASSWORD, "password_confirm": PASSWORD}
        # A hand-made POST (the page shows no form) is refused by the service.
        response = submit(client, "/forgot-password", "/register", data)
        assert response.status_code == 403
        assert "needs an invitation" in response.text
        with db.unit_of_work() as session:
            assert service.find_user_by_email(session, "walk-in@example.com") is None

    def test_an_invitation_link_registers_with_the_invited_role(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        make_account(app, role=Role.admin)
        with db.unit_of_work() as session:
            token = service.issue_link_token(
                session, "invite", "newcomer@example.com", ttl_seconds=600, role=Role.ml_engineer.value
            )
        page_url = f"/register?invite={token}&email=newcomer@example.com"
        page = get_page(client, page_url)
        assert page.find("input", name="email").attrs["value"] == "newcomer@example.com"
        assert "readonly" in page.find("input", name="email").attrs
        data = {
            "email": "newcomer@example.com",
            "invite": token,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        }
        assert submit(client, page_url, "/register", data).status_code == 303
        with db.unit_of_work() as session:
            user = service.find_user_by_email(session, "newcomer@example.com")
            assert user is not None
            assert user.role == Role.ml_engineer.value

    def test_a_weak_password_shows_the_rule(self, client: TestClient, app: FastAPI) -> None:
        data = {"email": "ann@example.com", "password": "Tr0ub4dor", "password_confirm": "Tr0ub4dor"}
        data["setup_token"] = setup_token(app)
        response = submit(client, "/register", "/register", data)
        assert response.status_code == 422
        assert "at least 10 characters" in parse_html(response.text).find(id="form-error").text()
        data = {"email": "ann@example.com", "password": "password1234", "password_confirm": "password1234"}
        data["setup_token"] = setup_token(app)
        response = submit(client, "/register", "/register", data)
        assert response.status_code == 422
        assert "Password is too weak" in parse_html(response.text).find(id="form-error").text()

    def test_mismatched_passwords_and_a_bad_email_are_explained(self, client: TestClient) -> None:
        data = {"email": "ann@example.com", "password": PASSWORD, "password_confirm": PASSWORD + "x"}
        response = submit(client, "/register", "/register", data)
        assert response.status_code == 422
        assert "not the same" in response.text
        data = {"email": "not-an-email", "password": PASSWORD, "password_confirm": PASSWORD}
        response = submit(client, "/register", "/register", data)
        assert response.status_code == 422
        assert "email" in parse_html(response.text).find(id="form-error").text().lower()

    def test_the_emailed_confirmation_link_confirms_once(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        account = make_account(app)
        with db.unit_of_work() as session:
            token = service.issue_link_token(
                session, "confirm_email", account.email, ttl_seconds=600, user_id=account.id
            )
        page = get_page(client, f"/confirm-email?token={token}")
        assert f"{account.email} is confirmed" in page.text()
        with db.unit_of_work() as session:
            assert service.get_user(session, account.id).email_confirmed_at is not None
        again = get_page(client, f"/confirm-email?token={token}", status=400)
        assert "invalid or has expired" in again.text()


class TestPasswordReset:
    def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
        self, client: TestClient, app: FastAPI
    ) -> None:
        account = make_account(app)
        answers = []
        for email in (account.email, "nobody@example.com"):
            response = submit(client, "/forgot-password", "/forgot-password", {"email": email})
            assert response.status_code == 200
            answers.append(parse_html(response.text).find(id="reset-sent").text())
        assert answers[0] == answers[1]
        assert "If the address has an account" in answers[0]

    def test_a_reset_link_sets_a_new_password(self, client: TestClient, app: FastAPI, db: Database) -> None:
        account = make_account(app)
        with db.unit_of_work() as session:
            token = service.issue_link_token(
                session, "reset_password", account.email, ttl_seconds=600, user_id=account.id
            )
        page_url = f"/reset-password?token={token}"
        weak = submit(
            client, page_url, "/reset-password", {"token": token, "password": "x", "password_confirm": "x"}
        )
        assert weak.status_code == 422
        assert "at least 10 characters" in weak.text
        data = {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        done = submit(client, page_url, "/reset-password", data)
        assert done.status_code == 303
        assert "Your password is changed" in client.get(done.headers["location"]).text
        assert log_in(client, account.email, PASSWORD).status_code == 401
        assert log_in(client, account.email, NEW_PASSWORD).status_code == 303
        # The link worked once.
        client.cookies.clear()
        reused = submit(client, page_url, "/reset-password", data)
        assert reused.status_code == 400
        assert "invalid or has expired" in reused.text

    def test_a_link_without_a_token_says_so(self, client: TestClient) -> None:
        page = get_page(client, "/reset-password", status=400)
        assert "no token" in page.text()
        assert page.find("a", href="/forgot-password")


@pytest.mark.parametrize(
    ("next_path", "lands_on"),
    [
        ("/runs/abc?x=1", "/runs/abc?x=1"),
        ("", "/experiments"),
        ("https://evil.example/phish", "/experiments"),
        ("//evil.example/phish", "/experiments"),
        ("/\\evil.example", "/experiments"),
        ("/\t/evil.example", "/experiments"),
        ("javascript:alert(1)", "/experiments"),
        ("/logout", "/experiments"),
    ],
)
def test_after_login_only_pages_of_this_site_are_a_destination(next_path: str, lands_on: str) -> None:
    assert safe_next(next_path) == lands_on


def test_pages_cannot_be_framed_by_another_site(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "same-origin"


class TestBehindAnHttpsProxy:
    def test_cookies_are_secure_when_the_public_url_is_https(self, settings: Settings) -> None:
        # The proxy ends TLS and talks plain http to Kiln: the request itself looks like http.
        proxied = create_app(
            settings.with_sections(auth={"public_url": "https://kiln.example.com"}), migrate=False
        )
        account = make_account(proxied)
        pair = open_session(proxied, account)
        with TestClient(proxied, follow_redirects=False) as client:
            csrf = set_cookies(client.get("/login").headers.get_list("set-cookie"))
            client.cookies.set("kiln_refresh", pair.refresh_token)
            renewed = set_cookies(client.get("/experiments").headers.get_list("set-cookie"))
        kiln_state(proxied).db.dispose()
        for header in (csrf["kiln_csrf"], renewed["kiln_access"], renewed["kiln_refresh"]):
            assert "secure" in header.lower(), header


class TestFirstRunNeedsTheSetupToken:
    def test_the_register_page_asks_for_it_and_refuses_a_wrong_one(
        self, client: TestClient, app: FastAPI
    ) -> None:
        page = get_page(client, "/register")
        assert page.find("input", name="setup_token") is not None
        assert "server log" in page.text()
        data = {"email": "first@example.com", "password": PASSWORD, "password_confirm": PASSWORD}
        missing = submit(client, "/register", "/register", data)
        assert missing.status_code == 403
        assert "setup token" in parse_html(missing.text).find(id="form-error").text()
        wrong = submit(client, "/register", "/register", data | {"setup_token": "guessed"})
        assert wrong.status_code == 400
        with kiln_state(app).db.unit_of_work() as session:
            assert service.find_user_by_email(session, "first@example.com") is None

    def test_once_an_account_exists_the_page_no_longer_asks(self, client: TestClient, app: FastAPI) -> None:
        make_account(app, role=Role.admin)
        assert get_page(client, "/register").find_all("input", name="setup_token") == []


class TestResetPageOffersToRevokeKeys:
    def test_the_box_is_ticked_by_default(self, client: TestClient) -> None:
        box = get_page(client, "/reset-password?token=abc").find("input", name="revoke_api_keys")
        assert "checked" in box.attrs
