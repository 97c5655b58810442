"""Users, projects and API keys page like every list: ``?limit=&cursor=`` in, ``Page`` out."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import error_of
from tests.builders.auth import api, default_project_id, make_account, make_project, open_session
from tests.builders.core import database

API = "/api/v1"


def walk(client: TestClient, path: str, limit: int) -> list[dict[str, Any]]:
    """Every page of ``path``, following next_cursor; checks each page's size and the last one's end."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        assert len(pages) < 50, "the cursor never ends"
        if page["next_cursor"] is None:
            break
        assert len(page["items"]) == limit
        cursor = page["next_cursor"]
    return [item for page in pages for item in page["items"]]


@pytest.fixture
def admin(app: FastAPI) -> TestClient:
    return api(app, open_session(app, make_account(app, role=Role.admin)).access_token)


class TestUsers:
    def test_pages_through_every_account_oldest_first(self, app: FastAPI, admin: TestClient) -> None:
        for _ in range(4):
            make_account(app)
        everyone = admin.get(f"{API}/users", params={"limit": 100}).json()

        walked = walk(admin, f"{API}/users", limit=2)

        assert [user["id"] for user in walked] == [user["id"] for user in everyone["items"]]
        assert len(walked) == everyone["total"] == 5
        assert everyone["next_cursor"] is None


class TestProjects:
    def test_pages_through_the_projects_by_name_with_my_role(self, app: FastAPI, admin: TestClient) -> None:
        with database(app).unit_of_work() as session:
            for name in ("delta", "alpha", "charlie", "bravo"):
                make_project(session, name)

        walked = walk(admin, f"{API}/projects", limit=3)

        assert [project["name"] for project in walked] == ["alpha", "bravo", "charlie", "delta"]
        assert {project["my_role"] for project in walked} == {"admin"}

    def test_a_member_pages_only_through_their_projects(self, app: FastAPI) -> None:
        member = make_account(app, role=Role.viewer)
        with database(app).unit_of_work() as session:
            for name in ("p1", "p2", "p3"):
                make_project(session, name, members={member.id: "viewer"})
            make_project(session, "not-mine")
        client = api(app, open_session(app, member).access_token)

        walked = walk(client, f"{API}/projects", limit=2)

        assert [project["name"] for project in walked] == ["p1", "p2", "p3"]
        assert client.get(f"{API}/projects", params={"limit": 2}).json()["total"] == 3


class TestApiKeys:
    def test_pages_through_my_keys_newest_first_with_their_status(self, app: FastAPI) -> None:
        owner = api(app, open_session(app, make_account(app, role=Role.admin)).access_token)
        project = default_project_id(app)
        ids = []
        for number in range(3):
            body = {"name": f"k{number}", "project_id": project, "role": "viewer"}
            ids.append(owner.post(f"{API}/me/api-keys", json=body).json()["id"])
        assert owner.delete(f"{API}/me/api-keys/{ids[0]}").status_code == 200

        walked = walk(owner, f"{API}/me/api-keys", limit=2)

        assert [key["name"] for key in walked] == ["k2", "k1", "k0"]
        assert [key["status"] for key in walked] == ["active", "active", "revoked"]


class TestBadPaging:
    @pytest.mark.parametrize(
        "path", [f"{API}/users", f"{API}/projects", f"{API}/me/api-keys", f"{API}/audit"]
    )
    def test_a_limit_out_of_range_or_a_made_up_cursor_says_what_to_fix(
        self, admin: TestClient, path: str
    ) -> None:
        assert admin.get(path, params={"limit": 0}).status_code == 422
        assert admin.get(path, params={"limit": 1001}).status_code == 422
        made_up = admin.get(path, params={"cursor": "not-a-cursor"})
        assert made_up.status_code == 400
        assert "next_cursor" in error_of(made_up)["message"]
