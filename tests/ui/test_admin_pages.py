"""Administration through the browser: users, invitations, projects and members, the audit trail."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth import service
from kiln.auth.permissions import Role
from kiln.core.db import Database
from kiln.ui.audit import audit_page
from tests.builders.auth import Account, make_account, make_project
from tests.ui.html_tree import Element, get_page, parse_html
from tests.ui.sessions import log_in, submit, use_session


def nav_labels(page: Element) -> set[str]:
    return {link.text() for link in page.find("nav", aria_label="Main").find_all("a")}


def audit_actions(page: Element) -> list[str]:
    table = page.find("table", id="audit-table")
    return [row.find("code").text() for row in table.find("tbody").find_all("tr")]


class TestUsers:
    def test_a_deactivated_user_is_sent_to_the_login_page_on_their_next_request(
        self, client: TestClient, app: FastAPI, logged_in: Account
    ) -> None:
        user = make_account(app, role=Role.data_scientist)
        with TestClient(app) as their_browser:
            assert log_in(their_browser, user.email, user.password).status_code == 303
            assert their_browser.get("/experiments", follow_redirects=False).status_code == 200

            page = get_page(client, "/admin/users")
            row = page.find("tr", data_user_id=user.id)
            assert "Deactivate" in row.text()
            response = submit(client, "/admin/users", f"/admin/users/{user.id}/active", {"active": "0"})
            assert response.status_code == 303
            row = get_page(client, response.headers["location"]).find("tr", data_user_id=user.id)
            assert "deactivated" in row.text()

            response = their_browser.get("/experiments", follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")
            assert log_in(their_browser, user.email, user.password).status_code == 401

            submit(client, "/admin/users", f"/admin/users/{user.id}/active", {"active": "1"})
            assert log_in(their_browser, user.email, user.password).status_code == 303

    def test_changes_a_role_but_not_the_admins_own(
        self, client: TestClient, app: FastAPI, db: Database, logged_in: Account
    ) -> None:
        user = make_account(app)
        page = get_page(client, "/admin/users")
        assert not page.find("tr", data_user_id=logged_in.id).find_all("select")  # no way to demote oneself
        response = submit(client, "/admin/users", f"/admin/users/{user.id}/role", {"role": "ml_engineer"})
        assert response.status_code == 303
        assert "The user is updated" in client.get(response.headers["location"]).text
        with db.unit_of_work() as session:
            assert service.get_user(session, user.id).role == "ml_engineer"

        # A hand-made request still gets the service's answer, as a message.
        response = submit(client, "/admin/users", f"/admin/users/{logged_in.id}/role", {"role": "viewer"})
        assert response.status_code == 400
        assert (
            "cannot deactivate or demote themselves" in parse_html(response.text).find(id="form-error").text()
        )
        response = submit(client, "/admin/users", f"/admin/users/{user.id}/role", {"role": "overlord"})
        assert response.status_code == 422

    def test_a_password_reset_ends_the_users_sessions(
        self, client: TestClient, app: FastAPI, logged_in: Account
    ) -> None:
        user = make_account(app)
        with TestClient(app) as their_browser:
            use_session(their_browser, app, user)
            assert their_browser.get("/profile", follow_redirects=False).status_code == 200
            back = f"/admin/users/{user.id}"
            response = submit(client, back, f"/admin/users/{user.id}/password-reset", {"back": back})
            assert response.status_code == 303
            assert response.headers["location"] == f"{back}?notice=reset_sent"
            assert their_browser.get("/profile", follow_redirects=False).status_code == 303

    def test_invites_by_email_with_a_role_and_a_project(
        self, client: TestClient, app: FastAPI, db: Database, logged_in: Account
    ) -> None:
        with db.unit_of_work() as session:
            project_id = make_project(session, "vision").id
        data = {"email": "newcomer@example.com", "role": "data_scientist", "project_id": project_id}
        response = submit(client, "/admin/users", "/admin/invites", data)
        assert response.status_code == 303
        assert "The invitation is on its way" in client.get(response.headers["location"]).text
        page = get_page(client, "/audit?action=user.invited")
        assert "newcomer@example.com" in page.find("table", id="audit-table").text()

        existing = make_account(app)
        response = submit(
            client, "/admin/users", "/admin/invites", {"email": existing.email, "role": "viewer"}
        )
        assert response.status_code == 409
        form_page = parse_html(response.text)
        assert "already exists" in form_page.find(id="invite-error").text()
        assert form_page.find("input", id="invite-email").attrs["value"] == existing.email

        response = submit(
            client,
            "/admin/users",
            "/admin/invites",
            {"email": "x@example.com", "role": "viewer", "project_id": "nope"},
        )
        assert response.status_code == 404

    def test_a_users_page_shows_what_they_did(
        self, client: TestClient, app: FastAPI, logged_in: Account
    ) -> None:
        user = make_account(app)
        with TestClient(app) as their_browser:
            log_in(their_browser, user.email, user.password)
            submit(their_browser, "/profile", "/profile", {"name": "Grace"})
        page = get_page(client, f"/admin/users/{user.id}")
        actions = [
            row.find("code").text() for row in page.find("table", id="activity-table").find_all("tr")[1:]
        ]
        assert actions == ["user.profile_updated", "user.login"]  # newest first
        assert "user.created" in page.find("table", id="changes-table").text()

    def test_is_for_admins_only(self, client: TestClient, app: FastAPI) -> None:
        engineer = make_account(app, role=Role.ml_engineer)
        victim = make_account(app)
        use_session(client, app, engineer)
        page = get_page(client, "/experiments")
        assert "Admin" not in nav_labels(page)
        assert "Audit" not in nav_labels(page)
        assert "Projects" in nav_labels(page)
        for path in ("/admin/users", f"/admin/users/{victim.id}", "/audit"):
            assert client.get(path).status_code == 403, path
        response = submit(client, "/profile", f"/admin/users/{victim.id}/active", {"active": "0"})
        assert response.status_code == 403
        assert client.get(f"/admin/users/{victim.id}", follow_redirects=False).status_code == 403
        with TestClient(app) as their_browser:
            assert log_in(their_browser, victim.email, victim.password).status_code == 303


class TestProjects:
    def test_an_admin_creates_a_project_and_manages_its_members(
        self, client: TestClient, app: FastAPI, logged_in: Account
    ) -> None:
        member = make_account(app, role=Role.ml_engineer)
        response = submit(
            client, "/projects", "/projects", {"name": "fraud-detection", "description": "Cards"}
        )
        assert response.status_code == 303
        project_url = response.headers["location"].split("?")[0]
        page = get_page(client, response.headers["location"])
        assert page.find("h1").text() == "fraud-detection"
        assert page.find("tr", data_email=logged_in.email)  # the creator is its first member

        response = submit(
            client, project_url, f"{project_url}/members", {"email": member.email, "role": "viewer"}
        )
        assert response.status_code == 303
        row = get_page(client, project_url).find("tr", data_email=member.email)
        assert row.find("option", selected="").attrs["value"] == "viewer"

        response = submit(
            client, project_url, f"{project_url}/members", {"user_id": member.id, "role": "ml_engineer"}
        )
        row = get_page(client, response.headers["location"]).find("tr", data_email=member.email)
        assert row.find("option", selected="").attrs["value"] == "ml_engineer"

        response = submit(client, project_url, f"{project_url}/members/{member.id}/remove", {})
        page = get_page(client, response.headers["location"])
        assert "The member is removed" in page.text()
        assert not page.find_all("tr", data_email=member.email)

        response = submit(
            client, project_url, f"{project_url}/members", {"email": "ghost@example.com", "role": "viewer"}
        )
        assert response.status_code == 404
        assert "invite them first" in parse_html(response.text).find(id="form-error").text()

        response = submit(client, "/projects", "/projects", {"name": "fraud-detection"})
        assert response.status_code == 409
        response = submit(client, "/projects", "/projects", {"name": "no spaces allowed"})
        assert response.status_code == 422

    def test_a_member_sees_their_projects_and_role_and_nothing_else(
        self, client: TestClient, app: FastAPI, db: Database
    ) -> None:
        user = make_account(app, role=Role.data_scientist)
        with db.unit_of_work() as session:
            mine = make_project(session, "mine", members={user.id: Role.viewer.value}).id
            theirs = make_project(session, "theirs").id
        use_session(client, app, user)
        page = get_page(client, "/projects")
        rows = page.find("table", id="projects-table").find("tbody").find_all("tr")
        assert [(row.find("a").text(), row.find("span", cls="badge").text()) for row in rows] == [
            ("mine", "viewer")
        ]
        assert not page.find("main").find_all("form")
        project = get_page(client, f"/projects/{mine}")
        assert not project.find("main").find_all("form")  # members are listed, not managed
        assert project.find("tr", data_email=user.email)
        assert client.get(f"/projects/{theirs}").status_code == 404
        response = submit(
            client, f"/projects/{mine}", f"/projects/{mine}/members", {"email": user.email, "role": "admin"}
        )
        assert response.status_code == 403


class TestAuditPage:
    def test_lists_what_was_done_newest_first_and_filters(
        self, client: TestClient, app: FastAPI, logged_in: Account
    ) -> None:
        user = make_account(app)
        submit(client, "/admin/users", f"/admin/users/{user.id}/role", {"role": "data_scientist"})
        submit(client, "/profile", "/profile", {"name": "Root"})

        page = get_page(client, "/audit")
        actions = audit_actions(page)
        assert actions[:3] == ["user.profile_updated", "user.updated", "user.created"]
        assert "Audit" in nav_labels(page)

        only = audit_actions(get_page(client, "/audit?action=user.updated"))
        assert only == ["user.updated"]
        mine = audit_actions(get_page(client, f"/audit?actor={logged_in.email}"))
        assert mine == ["user.profile_updated", "user.updated"]
        assert audit_actions(get_page(client, f"/audit?target_type=user&target_id={user.id}")) == [
            "user.updated",
            "user.created",
        ]
        later = get_page(client, "/audit?since=2999-01-01T00:00")
        assert "Nothing matches these filters" in later.text()
        bad = get_page(client, "/audit?since=yesterday", status=400)
        assert "not a date and time" in bad.find(id="form-error").text()

    def test_pages_back_through_older_records(
        self, client: TestClient, logged_in: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for _ in range(3):
            submit(client, "/profile", "/profile", {"name": "again"})
        monkeypatch.setattr(audit_page, "PAGE_SIZE", 2)
        first = get_page(client, "/audit?action=user.profile_updated")
        seqs = [int(row.attrs["data-seq"]) for row in first.find("tbody").find_all("tr")]
        assert len(seqs) == 2
        assert seqs == sorted(seqs, reverse=True)
        older = get_page(client, first.find("a", rel="next").attrs["href"])
        rest = [int(row.attrs["data-seq"]) for row in older.find("tbody").find_all("tr")]
        assert len(rest) == 1
        assert rest[0] < seqs[-1]
        assert not older.find_all("a", rel="next")

    def test_verifies_the_chain_and_exports_through_the_api_with_the_session_cookie(
        self, client: TestClient, app: FastAPI, logged_in: Account
    ) -> None:
        submit(client, "/profile", "/profile", {"name": "Auditor"})
        page = get_page(client, "/audit?action=user.profile_updated")
        verified = get_page(client, page.find("a", id="verify-chain").attrs["href"])
        assert "The chain holds" in verified.find(id="verification").text()

        csv_link = next(link for link in page.find_all("a") if link.text() == "Export CSV")
        assert csv_link.attrs["href"].startswith("/api/v1/audit/export?")
        export = client.get(csv_link.attrs["href"])
        assert export.status_code == 200
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert [row["action"] for row in rows] == ["user.profile_updated"]
        assert rows[0]["actor_name"] == logged_in.email

        jsonl = next(link for link in page.find_all("a") if link.text() == "Export JSON lines")
        assert client.get(jsonl.attrs["href"]).text.count("\n") == 1
