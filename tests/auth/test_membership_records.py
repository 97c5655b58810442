"""Every way a membership or the default project comes about is on the audit record, with its id (L10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from kiln.auth import service
from kiln.auth.permissions import Role
from kiln.cli.main import app as kiln_app
from kiln.core.settings import get_settings
from tests.builders.audit import audit_records
from tests.builders.auth import STRONG_PASSWORD, api, make_account, make_project, open_session, setup_token
from tests.builders.core import database
from tests.settings import TEST_AUDIT_KEY

REGISTER = "/api/v1/auth/register"


def records_of(app: FastAPI, action: str) -> list[tuple[str, str, dict[str, object]]]:
    return [(r.actor_id, r.target_id, r.details) for r in audit_records(app) if r.action == action]


@pytest.fixture
def operator_cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """``kiln admin ...`` on the server, against the test database."""
    monkeypatch.setenv("KILN_DATABASE_URL", database_url)
    monkeypatch.setenv("KILN_HOME", str(tmp_path / "cli-home"))
    monkeypatch.setenv("KILN_ADMIN_PASSWORD", STRONG_PASSWORD)
    # The operator seals audit records with the server's key (a shared database has no key file).
    monkeypatch.setenv("KILN_AUDIT_KEY", TEST_AUDIT_KEY)
    get_settings.cache_clear()  # settings are read once per process
    yield CliRunner()
    get_settings.cache_clear()


def project_ids(app: FastAPI, token: str) -> dict[str, str]:
    return {p["name"]: p["id"] for p in api(app, token).get("/api/v1/projects").json()["items"]}


def test_the_first_account_records_the_default_project_and_its_membership(app: FastAPI) -> None:
    body = {"email": "founder@example.com", "password": STRONG_PASSWORD, "setup_token": setup_token(app)}
    founder = api(app).post(REGISTER, json=body).json()["id"]
    login = api(app).post(
        "/api/v1/auth/login", json={"email": "founder@example.com", "password": STRONG_PASSWORD}
    )
    default = project_ids(app, login.json()["access_token"])["default"]
    assert records_of(app, "project.created") == [("system", default, {"name": "default"})]
    assert records_of(app, "project.member_set") == [
        (founder, default, {"user_id": founder, "role": "admin"})
    ]


def test_an_accepted_invitation_records_the_membership_in_its_project(app: FastAPI) -> None:
    admin = make_account(app, role=Role.admin)
    with database(app).unit_of_work() as session:
        vision = make_project(session, "vision").id
    admin_client = api(app, open_session(app, admin).access_token)
    invite = {"email": "newcomer@example.com", "role": "data_scientist", "project_id": vision}
    assert admin_client.post("/api/v1/invites", json=invite).status_code == 201
    with database(app).unit_of_work() as session:
        # The invitation's token, as the mail carries it.
        token = service.issue_link_token(
            session,
            "invite",
            "newcomer@example.com",
            ttl_seconds=600,
            role="data_scientist",
            project_id=vision,
        )
    body = {"email": "newcomer@example.com", "password": STRONG_PASSWORD, "invite_token": token}
    newcomer = api(app).post(REGISTER, json=body).json()["id"]
    assert (newcomer, vision, {"user_id": newcomer, "role": "data_scientist"}) in records_of(
        app, "project.member_set"
    )


def test_the_default_project_made_on_first_use_is_recorded(app: FastAPI) -> None:
    admin = make_account(app, role=Role.admin)  # no default project exists yet
    created = api(app, open_session(app, admin).access_token).post("/api/v1/experiments", json={"name": "e"})
    assert created.status_code == 201
    ((actor, _project, details),) = records_of(app, "project.created")
    assert (actor, details) == ("system", {"name": "default"})


def test_bootstrap_records_the_admins_memberships(app: FastAPI, operator_cli: CliRunner) -> None:
    result = operator_cli.invoke(
        kiln_app, ["admin", "bootstrap", "--email", "ops@example.com", "--project", "demo"]
    )
    assert result.exit_code == 0, result.output
    login = api(app).post(
        "/api/v1/auth/login", json={"email": "ops@example.com", "password": STRONG_PASSWORD}
    )
    ids = project_ids(app, login.json()["access_token"])
    admin_id = api(app, login.json()["access_token"]).get("/api/v1/me").json()["id"]
    memberships = {
        (target, details["role"]) for _actor, target, details in records_of(app, "project.member_set")
    }
    assert memberships == {(ids["demo"], "admin"), (ids["default"], "admin")}
    assert {target for _a, target, _d in records_of(app, "project.created")} == {ids["demo"], ids["default"]}
    assert all(details["user_id"] == admin_id for *_rest, details in records_of(app, "project.member_set"))

    # Run again: nothing changed, nothing more is recorded.
    before = len(audit_records(app))
    again = operator_cli.invoke(
        kiln_app, ["admin", "bootstrap", "--email", "ops@example.com", "--project", "demo"]
    )
    assert again.exit_code == 0, again.output
    assert [r.action for r in audit_records(app)[before:]] == ["api_key.created"]


class TestAddUser:
    def test_a_second_person_joins_the_project_with_a_working_key(
        self, app: FastAPI, operator_cli: CliRunner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KILN_USER_PASSWORD", STRONG_PASSWORD)
        result = operator_cli.invoke(
            kiln_app,
            ["admin", "add-user", "reviewer@example.com", "--project", "demo", "--print-env", "REVIEWER"],
        )
        assert result.exit_code == 0, result.output
        line = result.stdout.strip().splitlines()[-1]
        assert line.startswith("export REVIEWER=")
        key = line.split("=", 1)[1].strip("'")
        me = api(app, key).get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert (me.json()["email"], me.json()["role"]) == ("reviewer@example.com", "ml_engineer")
        login = api(app).post(
            "/api/v1/auth/login", json={"email": "reviewer@example.com", "password": STRONG_PASSWORD}
        )
        assert set(project_ids(app, login.json()["access_token"])) == {"demo"}

        # Run again: the same account, a new key; still one membership.
        again = operator_cli.invoke(
            kiln_app, ["admin", "add-user", "reviewer@example.com", "--project", "demo"]
        )
        assert again.exit_code == 0, again.output
        assert set(project_ids(app, login.json()["access_token"])) == {"demo"}

    def test_an_unknown_role_or_variable_name_is_refused_before_anything_is_written(
        self, app: FastAPI, operator_cli: CliRunner
    ) -> None:
        before = len(audit_records(app))
        bad_role = operator_cli.invoke(kiln_app, ["admin", "add-user", "x@example.com", "--role", "boss"])
        assert bad_role.exit_code == 2
        assert "unknown role 'boss'" in bad_role.output
        bad_var = operator_cli.invoke(kiln_app, ["admin", "add-user", "x@example.com", "--print-env", "a b"])
        assert bad_var.exit_code == 2
        assert "not a shell variable name" in bad_var.output
        assert len(audit_records(app)) == before
