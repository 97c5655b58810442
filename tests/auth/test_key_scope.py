"""How far a key reaches: a project's key stays in its project and cannot touch its owner's account.

Review findings H1 (a project-scoped admin key had global admin powers) and L4 (a project-scoped
key could list and revoke its owner's other keys and edit the profile).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import error_of
from tests.builders.audit import audit_records
from tests.builders.auth import (
    STRONG_PASSWORD,
    api,
    default_project_id,
    make_member,
    make_project,
    open_session,
)
from tests.builders.core import database

KEYS = "/api/v1/me/api-keys"


def user_client(app: FastAPI, role: Role) -> tuple[TestClient, str]:
    account = make_member(app, role)
    return api(app, open_session(app, account).access_token), account.id


def new_key(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "ci"} | body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def global_requests(victim_id: str, victim_key_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """What only an administrator (a person, or a global key) may do."""
    return [
        ("GET", "/api/v1/users", None),
        (
            "POST",
            "/api/v1/users",
            {"email": "backdoor@example.com", "password": STRONG_PASSWORD, "role": "admin"},
        ),
        ("POST", "/api/v1/invites", {"email": "guest@example.com", "role": "admin"}),
        ("GET", "/api/v1/audit", None),
        ("GET", "/api/v1/audit/export", None),
        ("POST", f"/api/v1/users/{victim_id}/password-reset", None),
        ("POST", "/api/v1/projects", {"name": "shadow"}),
        ("DELETE", f"{KEYS}/{victim_key_id}", None),
    ]


class TestProjectKeysStayInTheirProject:
    def test_an_admins_key_for_one_project_gets_no_global_powers(self, app: FastAPI) -> None:
        admin, _ = user_client(app, Role.admin)
        project_a = default_project_id(app)
        key = new_key(admin, project_id=project_a, role="admin")
        assert key["scope"] == "project"
        victim, victim_id = user_client(app, Role.data_scientist)
        victim_key = new_key(victim, project_id=project_a, role="viewer")

        as_key = api(app, key["key"])
        for method, path, body in global_requests(victim_id, victim_key["id"]):
            response = as_key.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
            assert error_of(response)["code"] == "permission_denied"
        # Nothing happened: no account, no reset, the victim's key still works.
        assert "backdoor@example.com" not in [u["email"] for u in admin.get("/api/v1/users").json()["items"]]
        assert api(app, victim_key["key"]).get("/api/v1/me").status_code == 200
        assert [r.action for r in audit_records(app) if r.actor_kind == "api_key"] == []

        # Inside its project it is still an admin key: it reads the project's members.
        assert as_key.get(f"/api/v1/projects/{project_a}/members").status_code == 200
        with database(app).unit_of_work() as session:
            project_b = make_project(session).id
        assert as_key.get(f"/api/v1/projects/{project_b}/members").status_code == 404

    def test_an_admin_can_make_a_global_key_on_purpose_and_it_can(self, app: FastAPI) -> None:
        admin, _ = user_client(app, Role.admin)
        key = new_key(admin, scope="global", role="admin")
        assert (key["scope"], key["project_id"]) == ("global", None)
        assert [k["scope"] for k in admin.get(KEYS).json()["items"]] == ["global"]
        victim, victim_id = user_client(app, Role.data_scientist)
        victim_key = new_key(victim, project_id=default_project_id(app), role="viewer")

        as_key = api(app, key["key"])
        expected = {"GET": 200, "POST": 201, "DELETE": 200}
        for method, path, body in global_requests(victim_id, victim_key["id"]):
            status = 202 if path.endswith("/password-reset") else expected[method]
            response = as_key.request(method, path, json=body)
            assert response.status_code == status, (method, path, response.text)
        assert api(app, victim_key["key"]).get("/api/v1/me").status_code == 401

    def test_no_one_but_an_admin_can_make_a_global_key(self, app: FastAPI) -> None:
        engineer, _ = user_client(app, Role.ml_engineer)
        response = engineer.post(KEYS, json={"name": "all", "scope": "global", "role": "viewer"})
        assert response.status_code == 403
        assert "only administrators can create global keys" in error_of(response)["message"]
        assert engineer.get(KEYS).json()["items"] == []
        # Nor by leaving the project out by accident: a project key needs its project.
        missing = engineer.post(KEYS, json={"name": "oops", "role": "viewer"})
        assert missing.status_code == 422
        assert "project_id" in error_of(missing)["message"]
        # A key cannot make keys at all, a global admin key included.
        admin, _ = user_client(app, Role.admin)
        global_key = new_key(admin, scope="global", role="admin")["key"]
        minted = api(app, global_key).post(KEYS, json={"name": "child", "scope": "global", "role": "admin"})
        assert minted.status_code == 403

    def test_a_global_key_stops_when_its_owner_is_no_longer_an_admin(self, app: FastAPI) -> None:
        admin, admin_id = user_client(app, Role.admin)
        key = new_key(admin, scope="global", role="admin")["key"]
        other_admin, _ = user_client(app, Role.admin)
        assert other_admin.patch(f"/api/v1/users/{admin_id}", json={"role": "ml_engineer"}).status_code == 200
        assert api(app, key).get("/api/v1/me").status_code == 401


class TestKeysCannotChangeTheirOwnersAccount:
    def test_a_key_reads_me_but_cannot_edit_the_profile_password_or_keys(self, app: FastAPI) -> None:
        owner, _ = user_client(app, Role.data_scientist)
        project = default_project_id(app)
        ci_key = new_key(owner, project_id=project, role="viewer")
        other_key = new_key(owner, project_id=project, role="viewer", name="other-project-automation")
        as_key = api(app, ci_key["key"])

        assert as_key.get("/api/v1/me").status_code == 200
        refused = [
            as_key.patch("/api/v1/me", json={"name": "renamed"}),
            as_key.post(
                "/api/v1/me/password", json={"current_password": "x", "new_password": STRONG_PASSWORD}
            ),
            as_key.get(KEYS),
            as_key.post(KEYS, json={"name": "x", "project_id": project, "role": "viewer"}),
            as_key.delete(f"{KEYS}/{other_key['id']}"),
        ]
        assert [r.status_code for r in refused] == [403] * 5
        assert "needs a login session" in error_of(refused[0])["message"]
        assert "can revoke only itself" in error_of(refused[-1])["message"]
        assert owner.get("/api/v1/me").json()["name"] != "renamed"
        assert api(app, other_key["key"]).get("/api/v1/me").status_code == 200

    def test_a_key_can_revoke_itself_by_id_or_as_the_current_key(self, app: FastAPI) -> None:
        owner, _ = user_client(app, Role.viewer)
        project = default_project_id(app)
        first, second = (new_key(owner, project_id=project, role="viewer") for _ in range(2))

        by_id = api(app, first["key"]).delete(f"{KEYS}/{first['id']}")
        assert by_id.status_code == 200
        current = api(app, second["key"]).delete(f"{KEYS}/current")
        assert current.status_code == 200
        assert current.json()["id"] == second["id"]
        for key in (first, second):
            assert api(app, key["key"]).get("/api/v1/me").status_code == 401
        # A login session has no "current" key: it names the key.
        no_key = owner.delete(f"{KEYS}/current")
        assert no_key.status_code == 400
        assert "not made with an API key" in error_of(no_key)["message"]
