"""The predict path checks callers from memory: no SQL for a known key, and an auth change applies at once.

In-process, a change (revoke, deactivate, membership) empties the cache as it commits; another
process on the same database empties its own at its next poll (``credential_cache.refresh()``, what
its thread does every second). Apps used without entering their lifespan run no threads, so only
the requests themselves touch the database there.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kiln.app import kiln_state
from kiln.auth.models import ApiKey
from kiln.auth.permissions import Role
from kiln.core.ids import utcnow
from tests.api import API, error_of
from tests.auth.apps import BuildApp
from tests.builders.auth import (
    Account,
    api,
    default_project_id,
    make_account,
    make_api_key,
    make_member,
    make_project,
    open_session,
)
from tests.builders.core import counted_statements, database, unique
from tests.builders.deployments import predict, refresh, serve_model


def viewer_key(app: FastAPI, role: Role = Role.viewer) -> tuple[Account, str, str]:
    """A member of the default project with a key there: the account, the key's id, the key."""
    owner = make_member(app, Role.viewer if role == Role.auditor else role)
    key_id, key = make_api_key(app, owner, default_project_id(app), role)
    return owner, key_id, key


class TestNoDatabaseOnTheHotPath:
    def test_a_cached_key_or_token_predicts_without_a_single_statement(
        self, app: FastAPI, admin_token: str
    ) -> None:
        name = serve_model(app, admin_token)
        _owner, _key_id, key = viewer_key(app)
        member = make_member(app, Role.viewer)  # a login: its project role comes from its memberships
        for credential in (key, open_session(app, member).access_token):
            caller = api(app, credential)
            with counted_statements(app) as first:
                assert predict(caller, name).status_code == 200
            assert first, "the first request reads the credential from the database"
            with counted_statements(app) as statements:
                answers = [predict(caller, name).status_code for _ in range(20)]
            assert answers == [200] * 20
            assert statements == []

    def test_key_use_is_written_by_the_cache_off_the_request_path(
        self, app: FastAPI, admin_token: str
    ) -> None:
        name = serve_model(app, admin_token)
        _owner, key_id, key = viewer_key(app)
        caller = api(app, key)
        assert predict(caller, name).status_code == 200
        long_ago = utcnow() - timedelta(days=3)
        with database(app).unit_of_work() as session:  # as if the key was last used days ago
            session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=long_ago))
        assert predict(caller, name).status_code == 200  # from the cache: nothing written

        kiln_state(app).credential_cache.write_last_used()  # what its thread does once a minute

        with database(app).unit_of_work() as session:
            last_used = session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))
        assert last_used is not None
        assert last_used > utcnow() - timedelta(minutes=1)


class TestChangesApplyInProcess:
    def test_a_revoked_key_is_refused_right_after_the_revoke(self, build_app: BuildApp) -> None:
        # The poll is a minute away: only the in-process event can empty the cache in time.
        app = build_app(auth={"credential_poll_seconds": 60, "rate_limit": "100000/minute"})
        token = open_session(app, make_member(app, Role.admin)).access_token
        name = serve_model(app, token)
        owner, key_id, key = viewer_key(app)
        own = api(app, open_session(app, owner).access_token)
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as running:
            assert predict(running, name).status_code == 200
            assert own.delete(f"{API}/me/api-keys/{key_id}").status_code == 200

            refused = predict(running, name)

        assert refused.status_code == 401
        assert error_of(refused)["message"] == "invalid or expired token"

    def test_a_deactivated_users_key_is_refused_and_works_again_once_reactivated(
        self, app: FastAPI, client: TestClient
    ) -> None:
        name = serve_model(app, client.headers["Authorization"].split()[1])
        owner, _key_id, key = viewer_key(app)
        caller = api(app, key)
        assert predict(caller, name).status_code == 200

        assert client.patch(f"{API}/users/{owner.id}", json={"is_active": False}).status_code == 200
        assert predict(caller, name).status_code == 401
        # The refusal was kept, but a change empties refusals too.
        assert client.patch(f"{API}/users/{owner.id}", json={"is_active": True}).status_code == 200
        assert predict(caller, name).status_code == 200

    def test_a_login_removed_from_the_project_no_longer_finds_the_deployment(
        self, app: FastAPI, client: TestClient
    ) -> None:
        name = serve_model(app, client.headers["Authorization"].split()[1])
        member = make_member(app, Role.viewer)
        caller = api(app, open_session(app, member).access_token)
        assert predict(caller, name).status_code == 200

        project_id = default_project_id(app)
        assert client.delete(f"{API}/projects/{project_id}/members/{member.id}").status_code == 200

        hidden = predict(caller, name)
        assert hidden.status_code == 404
        assert error_of(hidden)["message"] == f"deployment {name!r} not found"


class TestTheGenericRulesHold:
    def test_a_key_of_another_project_gets_the_404_of_a_missing_deployment(
        self, app: FastAPI, admin_token: str
    ) -> None:
        name = serve_model(app, admin_token)
        outsider = make_account(app, role=Role.viewer)
        with database(app).unit_of_work() as session:
            other = make_project(session, unique("team-b"), members={outsider.id: Role.viewer.value})
            other_id = other.id
        _key_id, key = make_api_key(app, outsider, other_id)
        caller = api(app, key)

        hidden = predict(caller, name)
        missing = predict(caller, "no-such-deployment")

        assert (hidden.status_code, missing.status_code) == (404, 404)
        assert error_of(hidden)["message"] == f"deployment {name!r} not found"
        assert error_of(missing)["message"] == "deployment 'no-such-deployment' not found"
        assert predict(caller, name).status_code == 404  # and so it stays, from the cache

    def test_a_key_without_predictions_create_is_refused(self, app: FastAPI, admin_token: str) -> None:
        name = serve_model(app, admin_token)
        _owner, _key_id, key = viewer_key(app, Role.auditor)

        refused = predict(api(app, key), name)

        assert refused.status_code == 403
        assert "predictions:create" in error_of(refused)["message"]

    def test_no_or_a_bad_credential_is_a_401_saying_what_to_send(
        self, app: FastAPI, admin_token: str
    ) -> None:
        name = serve_model(app, admin_token)
        anonymous = predict(api(app), name)
        forged = predict(api(app, "kiln_not-a-real-key"), name)
        assert (anonymous.status_code, forged.status_code) == (401, 401)
        assert "Authorization: Bearer" in error_of(anonymous)["message"]
        assert error_of(forged)["message"] == "invalid or expired token"

    def test_the_api_rate_limit_applies_to_cached_keys(self, build_app: BuildApp) -> None:
        app = build_app(auth={"rate_limit": "3/minute"})
        name = serve_model(app, open_session(app, make_member(app, Role.admin)).access_token)
        _owner, _key_id, key = viewer_key(app)
        caller = api(app, key)

        answers = [predict(caller, name) for _ in range(4)]

        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert error_of(answers[-1])["code"] == "rate_limited"


class TestTwoProcesses:
    def test_a_key_revoked_through_one_app_stops_on_the_other_after_its_next_poll(
        self, app: FastAPI, client: TestClient, second_app: FastAPI
    ) -> None:
        name = serve_model(app, client.headers["Authorization"].split()[1])
        refresh(second_app)
        owner, key_id, key = viewer_key(app)
        other = api(second_app, key)  # not entered: no threads, the test polls for it
        assert predict(other, name).status_code == 200

        own = api(app, open_session(app, owner).access_token)
        assert own.delete(f"{API}/me/api-keys/{key_id}").status_code == 200
        assert predict(api(app, key), name).status_code == 401  # the first app knew at once
        assert predict(other, name).status_code == 200  # the second, at its next poll

        assert kiln_state(second_app).credential_cache.refresh()  # the revision moved
        assert not kiln_state(second_app).credential_cache.refresh()  # and only once
        assert predict(other, name).status_code == 401
