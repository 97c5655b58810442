"""The bell's count in the header of every logged-in page, the /notifications page, and the settings
card on the profile page (forms with their CSRF token, as a browser submits them)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from kiln.notify import service
from tests.builders.auth import Account, make_account
from tests.builders.core import database
from tests.builders.notify import PROMOTED, ROLLED_BACK, send
from tests.ui.html_tree import Element, get_page
from tests.ui.sessions import submit, use_session


def bell(page: Element) -> Element:
    return page.find("a", id="notification-bell")


def bell_count(page: Element) -> str | None:
    found = bell(page).find_all("span", cls="bell__count")
    return found[0].text().strip() if found else None


def rows(page: Element) -> list[Element]:
    return page.find_all("li", cls="notification")


@pytest.fixture
def client(anonymous_client: TestClient) -> TestClient:
    """Pages authenticate with cookies, not a Bearer header: the browser starts signed out."""
    return anonymous_client


@pytest.fixture
def ada(app: FastAPI, client: TestClient) -> Account:
    """The test client is logged in as Ada."""
    account = make_account(app, role=Role.data_scientist, project_role=Role.data_scientist)
    use_session(client, app, account)
    return account


class TestBell:
    def test_every_logged_in_page_shows_the_unread_count(
        self, app: FastAPI, client: TestClient, ada: Account
    ) -> None:
        assert bell_count(get_page(client, "/experiments")) is None
        assert "none unread" in bell(get_page(client, "/experiments")).text()

        send(app, [ada], title="one")
        send(app, [ada], title="two")

        for path in ("/experiments", "/profile", "/notifications"):
            page = get_page(client, path)
            assert bell_count(page) == "2", path
            assert bell(page).attrs["href"] == "/notifications"

    def test_anonymous_pages_have_no_bell(self, client: TestClient) -> None:
        page = get_page(client, "/login")
        assert page.find_all("a", id="notification-bell") == []


class TestInboxPage:
    def test_lists_them_with_links_and_marks_one_and_then_all_read(
        self, app: FastAPI, client: TestClient, ada: Account
    ) -> None:
        send(
            app, [ada], kind=PROMOTED, title="fraud_detector v3 is in staging", link="/models/fraud_detector"
        )
        send(app, [ada], kind=ROLLED_BACK, title="churn rolled back to v1", body="Reason: <b>drift</b>")
        send(app, [ada], title="old news")

        page = get_page(client, "/notifications")
        listed = rows(page)
        assert [
            row.find("p", cls="notification__title").text().split("Unread: ")[-1].strip() for row in listed
        ] == [
            "old news",
            "churn rolled back to v1",
            "fraud_detector v3 is in staging",
        ]
        assert listed[2].find("a").attrs["href"] == "/models/fraud_detector"
        assert "A production model is rolled back" in listed[1].text()
        assert "Reason: <b>drift</b>" in listed[1].text()  # shown as text, never as markup
        assert all(row.attrs["data-read"] == "no" for row in listed)

        target = listed[1].attrs["data-notification-id"]
        response = submit(client, "/notifications", f"/notifications/{target}/read", {})
        assert response.status_code == 303
        page = get_page(client, response.headers["location"])
        assert [row.attrs["data-read"] for row in rows(page)] == ["no", "yes", "no"]
        assert bell_count(page) == "2"
        assert [
            row.attrs["data-notification-id"] for row in rows(get_page(client, "/notifications?unread=1"))
        ] == [
            listed[0].attrs["data-notification-id"],
            listed[2].attrs["data-notification-id"],
        ]

        response = submit(client, "/notifications", "/notifications/read-all", {})
        page = get_page(client, response.headers["location"])
        assert "Every notification is marked read" in page.text()
        assert bell_count(page) is None
        assert "Nothing unread" in get_page(client, "/notifications?unread=1").text()

    def test_forms_without_the_csrf_token_or_for_someone_elses_notification_are_refused(
        self, app: FastAPI, client: TestClient, ada: Account
    ) -> None:
        other = make_account(app)
        send(app, [other], title="not for ada")
        forged = client.post("/notifications/read-all", data={}, follow_redirects=False)
        assert forged.status_code == 403
        with TestClient(app) as as_other:
            use_session(as_other, app, other)
            [theirs] = rows(get_page(as_other, "/notifications"))
        response = submit(
            client, "/notifications", f"/notifications/{theirs.attrs['data-notification-id']}/read", {}
        )
        assert response.status_code == 404


class TestSettingsCard:
    def test_the_profile_page_lists_every_kind_and_saves_the_boxes(
        self, app: FastAPI, client: TestClient, ada: Account
    ) -> None:
        page = get_page(client, "/profile")
        card = page.find("form", id="notification-settings")
        kinds = [row.attrs["data-kind"] for row in card.find_all("tr") if "data-kind" in row.attrs]
        assert kinds[:2] == ["model_version.registered", "model_version.promoted"]
        assert "checked" in card.find("input", name="email:alert.firing").attrs
        assert "checked" not in card.find("input", name="email:model_version.promoted").attrs

        # Ticked: alert in the app only; promotions by mail too; everything else unticked is off.
        response = submit(
            client,
            "/profile",
            "/profile/notifications",
            {
                "in_app:alert.firing": "1",
                "in_app:model_version.promoted": "1",
                "email:model_version.promoted": "1",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/profile?notice=notification_settings_saved#notifications"
        page = get_page(client, response.headers["location"])
        assert "Your notification settings are saved" in page.text()
        card = page.find("form", id="notification-settings")
        assert "checked" not in card.find("input", name="email:alert.firing").attrs
        assert "checked" in card.find("input", name="email:model_version.promoted").attrs
        with database(app).unit_of_work() as session:
            saved = {s.kind: (s.in_app, s.email) for s in service.get_settings(session, ada.id)}
        assert saved["alert.firing"] == (True, False)
        assert saved["model_version.promoted"] == (True, True)
        assert saved["pipeline_run.failed"] == (False, False)
