"""The API checks callers from memory too: no SQL for who is calling once a credential is known, and
revocation, deactivation and logout still apply to the very next request.

The predict path's own tests (tests/serving/test_credential_cache.py) cover the cache across two
processes; here it is the API's authenticator, which every tracking, registry and auth route uses.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiln.auth.permissions import Role
from tests.api import API, error_of
from tests.auth.apps import BuildApp
from tests.builders.auth import api, default_project_id, make_api_key, make_member, open_session
from tests.builders.core import counted_statements, database
from tests.builders.tracking import make_run

AUTH_TABLES = re.compile(r"\b(users|auth_sessions|api_keys|project_members)\b")


def a_run(app: FastAPI) -> str:
    with database(app).unit_of_work() as session:
        return make_run(session).id


def engineer_key(app: FastAPI) -> tuple[str, str, str]:
    """An ml_engineer's key for the default project: (the owner's access token, the key's id, the key)."""
    owner = make_member(app, Role.ml_engineer)
    key_id, key = make_api_key(app, owner, default_project_id(app), Role.ml_engineer)
    return open_session(app, owner).access_token, key_id, key


def test_a_known_key_or_token_is_not_looked_up_again(app: FastAPI, client: TestClient) -> None:
    run_id = a_run(app)
    _token, _key_id, key = engineer_key(app)
    admin_login = open_session(app, make_member(app, Role.admin)).access_token
    for credential in (key, admin_login):
        caller = api(app, credential)
        with counted_statements(app) as first:
            assert caller.get(f"{API}/runs/{run_id}").status_code == 200
        assert any(AUTH_TABLES.search(statement) for statement in first)

        with counted_statements(app) as statements:
            answers = [caller.get(f"{API}/runs/{run_id}").status_code for _ in range(5)]

        assert answers == [200] * 5
        assert statements, "the route still reads the run"
        assert not [statement for statement in statements if AUTH_TABLES.search(statement)]


def test_a_revoked_key_is_refused_by_the_next_request(build_app: BuildApp) -> None:
    # The cross-process poll is a minute away: only the in-process change can reach the cache in time.
    app = build_app(auth={"credential_poll_seconds": 60})
    run_id = a_run(app)
    owner_token, key_id, key = engineer_key(app)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as caller:
        assert caller.get(f"{API}/runs/{run_id}").status_code == 200
        assert api(app, owner_token).delete(f"{API}/me/api-keys/{key_id}").status_code == 200

        refused = caller.get(f"{API}/runs/{run_id}")

    assert refused.status_code == 401
    assert error_of(refused)["message"] == "invalid or expired token"


def test_a_deactivated_users_login_and_key_are_refused_at_once(app: FastAPI, client: TestClient) -> None:
    run_id = a_run(app)
    member = make_member(app, Role.ml_engineer)
    _key_id, key = make_api_key(app, member, default_project_id(app), Role.ml_engineer)
    callers = [api(app, open_session(app, member).access_token), api(app, key)]
    assert [caller.get(f"{API}/runs/{run_id}").status_code for caller in callers] == [200, 200]

    assert client.patch(f"{API}/users/{member.id}", json={"is_active": False}).status_code == 200
    assert [caller.get(f"{API}/runs/{run_id}").status_code for caller in callers] == [401, 401]
    # The refusal was kept, but reactivating is a change too: the key works again at once.
    assert client.patch(f"{API}/users/{member.id}", json={"is_active": True}).status_code == 200
    assert callers[1].get(f"{API}/runs/{run_id}").status_code == 200


def test_a_lowered_project_role_applies_to_the_next_write(app: FastAPI, client: TestClient) -> None:
    run_id = a_run(app)
    member = make_member(app, Role.ml_engineer)
    caller = api(app, open_session(app, member).access_token)
    assert caller.post(f"{API}/runs/{run_id}/params", json={"key": "a", "value": "1"}).status_code == 200

    project = default_project_id(app)
    body = {"email": member.email, "role": Role.viewer.value}
    assert client.put(f"{API}/projects/{project}/members", json=body).status_code == 200

    refused = caller.post(f"{API}/runs/{run_id}/params", json={"key": "b", "value": "2"})
    assert refused.status_code == 403


def test_an_app_without_its_lifespan_reads_the_database_each_time(build_app: BuildApp) -> None:
    """Its cache hears of no change (no poll thread, no subscription), so it is not trusted."""
    app = build_app()
    run_id = a_run(app)
    owner_token, key_id, key = engineer_key(app)
    caller = api(app, key)  # never entered
    assert caller.get(f"{API}/runs/{run_id}").status_code == 200

    assert api(app, owner_token).delete(f"{API}/me/api-keys/{key_id}").status_code == 200

    assert caller.get(f"{API}/runs/{run_id}").status_code == 401
