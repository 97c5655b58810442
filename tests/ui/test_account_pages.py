"""The user's own account pages: profile, password, API keys."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth import service
from kiln.auth.permissions import Role
from kiln.core.db import Database
from tests.builders.auth import PASSWORD, make_account, make_project
from tests.ui.html_tree import get_page, parse_html
from tests.ui.sessions import log_in, submit, use_session

NEW_PASSWORD = "violet-harbour-drifting-41"


class TestProfile:
    def test_saves_the_name(self, client: TestClient, app: FastAPI, db: Database) -> None:
        # The notification settings card on this page is the notify domain's (tests/notify/test_pages.py).
        account = make_account(app, role=Role.data_scientist)
        use_session(client, app, account)
        page = get_page(client, "/profile")
        assert account.email in page.find("h1").text() + page.text()
        assert "data scientist" in page.text()

        response = submit(client, "/profile", "/profile", {"name": "Ada Lovelace"})
        assert response.status_code == 303
        page = get_page(client, response.headers["location"])
        assert "Your profile is saved" in page.text()
        assert page.find("input", name="name").attrs["value"] == "Ada Lovelace"
        with db.unit_of_work() as session:
            assert service.get_user(session, account.id).name == "Ada Lovelace"

    def test_changes_the_password_after_checking_the_current_one(
        self, client: TestClient, app: FastAPI
    ) -> None:
        account = make_account(app)
        use_session(client, app, account)
        wrong = {
            "current_password": "not-my-password",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        }
        response = submit(client, "/profile", "/profile/password", wrong)
        assert response.status_code == 400
        assert "current password is not correct" in parse_html(response.text).find(id="password-error").text()

        weak = {
            "current_password": PASSWORD,
            "new_password": "kiln-kiln-1",
            "new_password_confirm": "kiln-kiln-1",
        }
        response = submit(client, "/profile", "/profile/password", weak)
        assert response.status_code == 422
        assert "Password is too weak" in parse_html(response.text).find(id="password-error").text()

        good = {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        }
        response = submit(client, "/profile", "/profile/password", good)
        assert response.status_code == 303
        assert "Your password is changed" in client.get(response.headers["location"]).text
        with TestClient(app) as fresh:
            assert log_in(fresh, account.email, PASSWORD).status_code == 401
            assert log_in(fresh, account.email, NEW_PASSWORD).status_code == 303


class TestApiKeys:
    def test_a_new_key_is_shown_once_and_then_only_by_its_prefix(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        account = make_account(app, role=Role.data_scientist)
        with db.unit_of_work() as session:
            project_id = make_project(session, "fraud", members={account.id: Role.data_scientist.value}).id
        use_session(client, app, account)
        page = get_page(client, "/api-keys")
        options = [option.attrs["value"] for option in page.find("select", name="role").find_all("option")]
        # Nothing above the user's own role. The auditor is offered: in a project key it holds nothing a
        # viewer lacks (its one extra, the whole audit trail, is withheld from project keys).
        assert options == ["viewer", "data_scientist", "auditor"]

        data = {"name": "ci-nightly", "project_id": project_id, "role": "viewer", "expires": "30"}
        response = submit(client, "/api-keys", "/api-keys", data)
        assert response.status_code == 201
        assert response.headers["cache-control"] == "no-store"
        secret = parse_html(response.text).find("pre", id="api-key-secret").text()
        assert secret.startswith("kiln_")

        # The key works against the API, as the user, in its project.
        me = client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["email"] == account.email

        listing = client.get("/api-keys").text
        assert secret not in listing
        rows = parse_html(listing).find("table", id="keys-table").find("tbody").find_all("tr")
        assert len(rows) == 1
        name, prefix, project, role, _created, expires, last_used, status, _ = (
            cell.text() for cell in rows[0].find_all("td")
        )
        assert (name, project, role, status) == ("ci-nightly", "fraud", "viewer", "active")
        assert prefix == secret[:12] + "…"
        assert expires[:4].isdigit()  # a date, 30 days out
        assert last_used[:4].isdigit()  # the API call above used it

    def test_a_revoked_key_stops_working(self, client: TestClient, app: FastAPI, db: Database) -> None:
        account = make_account(app, role=Role.admin)
        with db.unit_of_work() as session:
            project_id = make_project(session).id
        use_session(client, app, account)
        data = {"name": "temporary", "project_id": project_id, "role": "viewer", "expires": "30"}
        created = parse_html(submit(client, "/api-keys", "/api-keys", data).text)
        secret = created.find("pre", id="api-key-secret").text()
        key_id = (
            parse_html(client.get("/api-keys").text)
            .find("table", id="keys-table")
            .find("tbody")
            .find("tr")
            .attrs["data-key-id"]
        )

        response = submit(client, "/api-keys", f"/api-keys/{key_id}/revoke", {})
        assert response.status_code == 303
        page = get_page(client, response.headers["location"])
        assert "The API key is revoked" in page.text()
        row = page.find("tr", data_key_id=key_id)
        assert row.find("span", cls="badge--revoked").text() == "revoked"
        assert not row.find_all("button")
        assert client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"}).status_code == 401

    def test_a_key_for_a_project_the_user_is_not_in_is_refused_on_the_form(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        account = make_account(app, role=Role.data_scientist)
        with db.unit_of_work() as session:
            make_project(session, "mine", members={account.id: Role.viewer.value})
            other_id = make_project(session, "theirs").id
        use_session(client, app, account)
        page = get_page(client, "/api-keys")
        projects = {option.text() for option in page.find("select", name="project_id").find_all("option")}
        assert projects == {"mine (viewer)"}

        data = {"name": "sneaky", "project_id": other_id, "role": "viewer", "expires": "90"}
        response = submit(client, "/api-keys", "/api-keys", data)
        assert response.status_code == 404
        assert "not found" in parse_html(response.text).find(id="form-error").text()
        assert parse_html(response.text).find("input", name="name").attrs["value"] == "sneaky"


class TestKeyLifetimeAndScope:
    def test_every_key_expires_within_the_servers_maximum(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        account = make_account(app, role=Role.data_scientist)
        with db.unit_of_work() as session:
            make_project(session, members={account.id: Role.viewer.value})
        use_session(client, app, account)
        page = get_page(client, "/api-keys")
        choices = [o.attrs["value"] for o in page.find("select", name="expires").find_all("option")]
        assert choices == ["30", "90", "365"]  # no "Never"
        # A hand-made form asking for no expiry is refused, not turned into a key that never expires.
        data = {"name": "forever", "project_id": "any", "role": "viewer", "expires": ""}
        response = submit(client, "/api-keys", "/api-keys", data)
        assert response.status_code == 422
        assert "expires in days" in parse_html(response.text).find(id="form-error").text().lower()

    def test_an_admin_can_make_a_global_key_and_it_is_marked_as_one(
        self, client: TestClient, app: FastAPI
    ) -> None:
        admin = make_account(app, role=Role.admin)
        use_session(client, app, admin)
        page = get_page(client, "/api-keys")
        projects = [o.attrs["value"] for o in page.find("select", name="project_id").find_all("option")]
        assert "global" in projects
        data = {"name": "ops", "project_id": "global", "role": "admin", "expires": "30"}
        assert submit(client, "/api-keys", "/api-keys", data).status_code == 201
        row = parse_html(client.get("/api-keys").text).find("table", id="keys-table").find("tbody").find("tr")
        assert row.find("td", data_key_scope="global") is not None
        # The admin pages show it too, on the owner's page.
        user_page = get_page(client, f"/admin/users/{admin.id}")
        (cell,) = user_page.find("table", id="user-keys-table").find_all("td", data_key_scope="global")
        assert "global" in cell.text()

    def test_others_are_not_offered_a_global_key_and_cannot_forge_one(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        account = make_account(app, role=Role.ml_engineer)
        with db.unit_of_work() as session:
            make_project(session, members={account.id: Role.viewer.value})
        use_session(client, app, account)
        page = get_page(client, "/api-keys")
        assert "global" not in [
            o.attrs["value"] for o in page.find("select", name="project_id").find_all("option")
        ]
        data = {"name": "ops", "project_id": "global", "role": "viewer", "expires": "30"}
        response = submit(client, "/api-keys", "/api-keys", data)
        assert response.status_code == 403
        assert "only administrators can create global keys" in response.text.lower()


class TestPasswordChangeAndKeys:
    def test_changing_the_password_can_revoke_the_keys(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        account = make_account(app, role=Role.data_scientist)
        with db.unit_of_work() as session:
            project_id = make_project(session, members={account.id: Role.viewer.value}).id
        use_session(client, app, account)
        data = {"name": "ci", "project_id": project_id, "role": "viewer", "expires": "30"}
        secret = (
            parse_html(submit(client, "/api-keys", "/api-keys", data).text)
            .find("pre", id="api-key-secret")
            .text()
        )
        box = get_page(client, "/profile").find("input", name="revoke_api_keys")
        assert "checked" not in box.attrs  # a change keeps the keys unless asked

        form = {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        }
        assert (
            submit(client, "/profile", "/profile/password", form | {"revoke_api_keys": "1"}).status_code
            == 303
        )
        assert client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"}).status_code == 401
