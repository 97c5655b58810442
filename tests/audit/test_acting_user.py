"""Every record names the user behind the action, also when one of their API keys acted; an
administrator's view of a user's activity includes what they did with their keys."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from kiln.audit import chain
from kiln.audit.models import KEYED_SCHEME, AuditHead, AuditRecord
from kiln.auth.permissions import Role
from kiln.core.db import make_engine
from kiln.core.migrate import upgrade_database
from tests.audit.builders import tamper
from tests.builders.audit import ALICE, append, audit_records
from tests.builders.auth import Account, api, default_project_id, make_account, make_member, open_session
from tests.builders.core import database
from tests.tracking.api import API, create_experiment
from tests.ui.html_tree import get_page
from tests.ui.sessions import use_session


def key_client(app: FastAPI, owner: Account) -> tuple[TestClient, str]:
    session = api(app, open_session(app, owner).access_token)
    body = {"name": "ci", "project_id": default_project_id(app), "role": "data_scientist"}
    created = session.post(f"{API}/me/api-keys", json=body).json()
    return api(app, created["key"]), created["id"]


def verify(app: FastAPI) -> chain.Verification:
    with database(app).unit_of_work() as session:
        return chain.verify_chain(session)


class TestRecordsNameTheUser:
    def test_an_action_with_a_key_records_the_keys_owner(self, app: FastAPI) -> None:
        owner = make_member(app, Role.data_scientist)
        keyed, key_id = key_client(app, owner)

        experiment = create_experiment(keyed, "made-by-a-key")

        (record,) = [r for r in audit_records(app) if r.action == "experiment.created"]
        assert (record.actor_kind, record.actor_id) == ("api_key", key_id)
        assert record.user_id == owner.id
        system_made = next(r for r in audit_records(app) if r.action == "user.created")
        assert system_made.user_id is None
        assert experiment["id"] == record.target_id

    def test_the_seal_covers_the_user(self, app: FastAPI) -> None:
        seq = append(app, ALICE, "user.created", "u-1")
        assert verify(app).ok

        tamper(app, seq, user_id="mallory-id")

        result = verify(app)
        assert not result.ok
        assert result.broken_seq == seq

    def test_records_sealed_before_the_user_was_recorded_still_verify(self, app: FastAPI) -> None:
        old = append(app, ALICE, "user.created", "u-1")
        with database(app).unit_of_work() as session:
            # As an earlier release sealed it: without user_id (the migration backfills it later).
            entry = session.get(AuditRecord, old)
            assert entry is not None
            entry.scheme = KEYED_SCHEME
            entry.hash = chain.chain_hash(entry, chain.session_key(session))
            session.execute(update(AuditHead).values(last_hash=entry.hash))
        append(app, ALICE, "user.updated", "u-1")

        assert verify(app).ok
        assert [r.scheme for r in audit_records(app)] == ["hmac-sha256", "hmac-sha256-v2"]


class TestTheAdminsViewOfAUser:
    def test_activity_filter_and_user_page_include_what_they_did_with_keys(self, app: FastAPI) -> None:
        owner = make_member(app, Role.data_scientist)
        keyed, _key_id = key_client(app, owner)
        create_experiment(keyed, "by-key")
        admin_account = make_account(app, role=Role.admin)
        admin = api(app, open_session(app, admin_account).access_token)

        activity = admin.get(f"{API}/users/{owner.id}/activity").json()["items"]
        by_user = admin.get(f"{API}/audit", params={"user_id": owner.id}).json()["items"]
        by_actor = admin.get(f"{API}/audit", params={"actor_id": owner.id}).json()["items"]

        assert [r["action"] for r in activity][:2] == ["experiment.created", "api_key.created"]
        assert [r["action"] for r in by_user] == ["experiment.created", "api_key.created"]
        assert [r["action"] for r in by_actor] == ["api_key.created"]  # exactly that actor: the person
        assert by_user[0]["actor_kind"] == "api_key"
        assert by_user[0]["user_id"] == owner.id
        with TestClient(app) as browser:
            use_session(browser, app, admin_account)
            page = get_page(browser, f"/admin/users/{owner.id}")
            did = page.find("table", id="activity-table").text()
            assert "experiment.created" in did
            assert "(key ci)" in did
            trail = get_page(browser, f"/audit?actor={owner.email}").find("table", id="audit-table").text()
            assert "experiment.created" in trail


class TestMigration:
    def test_upgrading_backfills_the_user_of_earlier_records(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade_database(engine, "0006")
        now = "2026-01-01 00:00:00"
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, password_hash, role, is_active, "
                    "notification_settings, created_at, updated_at) "
                    "VALUES ('u1', 'a@example.com', '', 'x', 'viewer', 1, '{}', :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO api_keys (id, user_id, project_id, name, role, prefix, key_hash, "
                    "created_at) VALUES ('k1', 'u1', NULL, 'ci', 'viewer', 'kiln_x', 'h', :now)"
                ),
                {"now": now},
            )
            for seq, kind, actor in ((1, "user", "u1"), (2, "api_key", "k1"), (3, "system", "system")):
                connection.execute(
                    text(
                        "INSERT INTO audit_records (seq, at, actor_kind, actor_id, actor_name, action, "
                        "target_type, target_id, details, request_id, prev_hash, hash, scheme) "
                        "VALUES (:seq, :now, :kind, :actor, 'n', 'a', 't', 'x', '{}', '', 'p', 'h', "
                        "'hmac-sha256')"
                    ),
                    {"seq": seq, "now": now, "kind": kind, "actor": actor},
                )

        upgrade_database(engine)

        with engine.connect() as connection:
            rows = connection.execute(select(AuditRecord.seq, AuditRecord.user_id).order_by(AuditRecord.seq))
            assert [tuple(row) for row in rows] == [(1, "u1"), (2, "u1"), (3, None)]
        engine.dispose()
