"""API keys: shown once, no more powerful than their creator, confined to one project, revocable."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from kiln.auth.models import ApiKey
from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from tests.api import error_of
from tests.auth.apps import BuildApp
from tests.builders.audit import audit_records
from tests.builders.auth import api, default_project_id, make_member, make_project, open_session
from tests.builders.core import database

KEYS = "/api/v1/me/api-keys"


def owner_client(app: FastAPI, role: Role = Role.data_scientist) -> tuple[TestClient, str]:
    account = make_member(app, role)
    return api(app, open_session(app, account).access_token), account.id


def create_key(client: TestClient, project_id: str, role: str = "viewer", **extra: Any) -> dict[str, Any]:
    response = client.post(KEYS, json={"name": "ci", "project_id": project_id, "role": role} | extra)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


class TestCreating:
    def test_the_key_is_shown_once_and_works_as_a_bearer_token(self, app: FastAPI) -> None:
        client, user_id = owner_client(app)
        created = create_key(client, default_project_id(app), role="data_scientist")
        key = created["key"]
        assert key.startswith("kiln_")
        assert key.startswith(created["prefix"])
        assert len(created["prefix"]) < len(key) // 2

        me = api(app, key).get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["id"] == user_id

        listed = client.get(KEYS).json()["items"]
        assert [item["id"] for item in listed] == [created["id"]]
        assert "key" not in listed[0]
        assert key not in client.get(KEYS).text
        assert listed[0]["prefix"] == created["prefix"]

    def test_a_key_cannot_outrank_its_creator(self, app: FastAPI) -> None:
        client, _ = owner_client(app, Role.data_scientist)
        response = client.post(
            KEYS, json={"name": "x", "project_id": default_project_id(app), "role": "ml_engineer"}
        )
        assert response.status_code == 400
        assert "cannot be higher than yours" in error_of(response)["message"]
        assert client.get(KEYS).json()["items"] == []

    def test_nor_its_creators_role_in_the_project(self, app: FastAPI) -> None:
        account = make_member(app, Role.ml_engineer)
        with database(app).unit_of_work() as session:
            project_id = make_project(session, members={account.id: "viewer"}).id
        client = api(app, open_session(app, account).access_token)
        response = client.post(KEYS, json={"name": "x", "project_id": project_id, "role": "data_scientist"})
        assert response.status_code == 400
        assert create_key(client, project_id, role="viewer")["role"] == "viewer"

    def test_keys_are_only_for_projects_the_creator_belongs_to(self, app: FastAPI) -> None:
        client, _ = owner_client(app)
        with database(app).unit_of_work() as session:
            elsewhere = make_project(session).id
        for project_id in (elsewhere, "no-such-project"):
            response = client.post(KEYS, json={"name": "x", "project_id": project_id, "role": "viewer"})
            assert response.status_code == 404

    def test_an_admin_asking_for_a_key_to_a_missing_project_gets_not_found(self, app: FastAPI) -> None:
        client, _ = owner_client(app, Role.admin)
        response = client.post(KEYS, json={"name": "x", "project_id": "no-such-project", "role": "viewer"})
        assert response.status_code == 404

    def test_a_key_cannot_make_more_keys(self, app: FastAPI) -> None:
        client, _ = owner_client(app)
        key = create_key(client, default_project_id(app))["key"]
        response = api(app, key).post(
            KEYS, json={"name": "y", "project_id": default_project_id(app), "role": "viewer"}
        )
        assert response.status_code == 403


class TestConfinement:
    def test_a_key_sees_only_its_own_project(self, app: FastAPI) -> None:
        account = make_member(app, Role.data_scientist)
        with database(app).unit_of_work() as session:
            other_id = make_project(session, "other", members={account.id: "data_scientist"}).id
        client = api(app, open_session(app, account).access_token)
        assert {p["name"] for p in client.get("/api/v1/projects").json()["items"]} == {"default", "other"}

        hidden = client.post("/api/v1/experiments", json={"name": "hidden", "project": "other"})
        assert hidden.status_code == 201

        key = create_key(client, default_project_id(app), role="data_scientist")["key"]
        key_client = api(app, key)
        assert [p["name"] for p in key_client.get("/api/v1/projects").json()["items"]] == ["default"]
        assert key_client.get(f"/api/v1/projects/{other_id}/members").status_code == 404
        assert key_client.get(f"/api/v1/projects/{default_project_id(app)}/members").status_code == 200
        # The owner's experiments elsewhere do not exist for the key, and it cannot write there.
        assert key_client.get(f"/api/v1/experiments/{hidden.json()['id']}").status_code == 404
        assert key_client.get("/api/v1/experiments").json()["items"] == []
        elsewhere = key_client.post("/api/v1/experiments", json={"name": "sneaky", "project": "other"})
        assert elsewhere.status_code == 404
        own = key_client.post("/api/v1/experiments", json={"name": "mine"})
        assert own.status_code == 201
        assert own.json()["project_id"] == default_project_id(app)

    def test_a_viewer_key_of_a_data_scientist_cannot_write(self, app: FastAPI) -> None:
        client, _ = owner_client(app, Role.data_scientist)
        key = create_key(client, default_project_id(app), role="viewer")["key"]
        response = api(app, key).post("/api/v1/experiments", json={"name": "from-a-viewer-key"})
        assert response.status_code == 403

    def test_a_lowered_project_role_caps_the_key(self, app: FastAPI) -> None:
        admin = make_member(app, Role.admin)
        client, user_id = owner_client(app, Role.data_scientist)
        project_id = default_project_id(app)
        key = create_key(client, project_id, role="data_scientist")["key"]
        admin_client = api(app, open_session(app, admin).access_token)
        lowered = admin_client.put(
            f"/api/v1/projects/{project_id}/members", json={"user_id": user_id, "role": "viewer"}
        )
        assert lowered.status_code == 200
        # The key now acts as a viewer at most.
        assert api(app, key).post("/api/v1/experiments", json={"name": "after-demotion"}).status_code == 403

    def test_leaving_the_project_stops_the_key(self, app: FastAPI) -> None:
        admin = make_member(app, Role.admin)
        client, user_id = owner_client(app, Role.data_scientist)
        project_id = default_project_id(app)
        key = create_key(client, project_id, role="data_scientist")["key"]
        assert api(app, key).get("/api/v1/projects").status_code == 200
        admin_client = api(app, open_session(app, admin).access_token)
        removed = admin_client.delete(f"/api/v1/projects/{project_id}/members/{user_id}")
        assert removed.status_code == 200
        assert api(app, key).get("/api/v1/projects").status_code == 401


class TestEndOfLife:
    def test_a_revoked_key_fails_at_once(self, app: FastAPI) -> None:
        client, _ = owner_client(app)
        created = create_key(client, default_project_id(app))
        assert api(app, created["key"]).get("/api/v1/me").status_code == 200
        revoked = client.delete(f"{KEYS}/{created['id']}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        response = api(app, created["key"]).get("/api/v1/me")
        assert response.status_code == 401
        assert error_of(response)["message"] == "invalid or expired token"

    def test_an_expired_key_fails(self, app: FastAPI) -> None:
        client, _ = owner_client(app)
        created = create_key(client, default_project_id(app), expires_in_days=1)
        assert api(app, created["key"]).get("/api/v1/me").status_code == 200
        with database(app).unit_of_work() as session:  # a day goes by
            session.execute(
                update(ApiKey)
                .where(ApiKey.id == created["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert api(app, created["key"]).get("/api/v1/me").status_code == 401

    def test_no_key_lives_forever_or_longer_than_the_server_allows(self, build_app: BuildApp) -> None:
        app = build_app(auth={"api_key_max_days": 30})
        client, _ = owner_client(app)
        project = default_project_id(app)
        for days in (None, 31, 3650):
            body = {"name": "forever", "project_id": project, "role": "viewer", "expires_in_days": days}
            response = client.post(KEYS, json=body)
            assert response.status_code == 422, (days, response.text)
            assert error_of(response)["code"] == "validation_failed"
        over = client.post(KEYS, json=body)
        assert "at most 30 days on this server" in error_of(over)["message"]
        assert client.get(KEYS).json()["items"] == []
        # Asking nothing gets the default, lowered to the server's maximum.
        created = create_key(client, project)
        lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(
            created["created_at"]
        )
        assert lifetime == timedelta(days=30)

    def test_a_key_made_before_the_maximum_was_lowered_ends_at_it(self, build_app: BuildApp) -> None:
        app = build_app(auth={"api_key_max_days": 365})
        client, _ = owner_client(app)
        created = create_key(client, default_project_id(app), expires_in_days=365)
        with database(app).unit_of_work() as session:  # 31 days go by; the old key never expired
            session.execute(
                update(ApiKey)
                .where(ApiKey.id == created["id"])
                .values(created_at=utcnow() - timedelta(days=31), expires_at=None)
            )
        assert api(app, created["key"]).get("/api/v1/me").status_code == 200
        stricter = build_app(auth={"api_key_max_days": 30})
        assert api(stricter, created["key"]).get("/api/v1/me").status_code == 401

    def test_someone_elses_key_cannot_be_revoked(self, app: FastAPI) -> None:
        owner, _ = owner_client(app)
        created = create_key(owner, default_project_id(app))
        stranger, _ = owner_client(app, Role.ml_engineer)
        assert stranger.delete(f"{KEYS}/{created['id']}").status_code == 404
        assert api(app, created["key"]).get("/api/v1/me").status_code == 200

    def test_last_used_at_records_use(self, app: FastAPI) -> None:
        client, _ = owner_client(app)
        created = create_key(client, default_project_id(app))
        assert created["last_used_at"] is None
        assert created["expires_at"] is not None  # 90 days unless asked otherwise
        assert api(app, created["key"]).get("/api/v1/me").status_code == 200
        (listed,) = client.get(KEYS).json()["items"]
        assert listed["last_used_at"] is not None


def test_a_key_with_a_long_name_of_a_user_with_a_long_email_can_still_act(app: FastAPI) -> None:
    # The audit trail names the actor "<email> (key <name>)": longer than its column allows.
    email = "a" * 64 + "@" + ".".join(["b" * 62, "c" * 62, "d" * 55]) + ".example"
    assert len(email) == 254  # the longest address there is
    account = make_member(app, Role.data_scientist, email=email)
    client = api(app, open_session(app, account).access_token)
    key = create_key(client, default_project_id(app), name="k" * 128)["key"]
    response = api(app, key).delete(f"{KEYS}/current")  # a change a key may make to its account
    assert response.status_code == 200
    (record,) = [r for r in audit_records(app) if r.action == "api_key.revoked"]
    assert record.actor_name.startswith(email)
    assert len(record.actor_name) <= 320
