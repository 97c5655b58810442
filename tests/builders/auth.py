"""Users, projects, members and sessions, made through the auth services; clients that carry a session.

argon2 is slow on purpose: tests/conftest.py hashes each distinct password once per test process,
so making a user costs about as little as writing the row would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kiln.app import kiln_state
from kiln.auth import api_keys, projects, service, tokens
from kiln.auth.config import AuthConfig
from kiln.auth.models import Project, User
from kiln.auth.permissions import Role
from kiln.auth.schemas import ApiKeyCreate, MemberSet, ProjectCreate, TokenPair, UserAdminUpdate, UserCreate
from kiln.core.actor import SYSTEM
from tests.builders.core import database, unique

# Long and uncommon enough for the strength check (zxcvbn score >= 3): every built user has it.
PASSWORD = "amber-lantern-quietly-77"
# Another strong password, for what a test changes, resets or registers with.
STRONG_PASSWORD = "cobalt-harbour-whistles-93"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    password: str
    role: str


def auth_config(app: FastAPI) -> AuthConfig:
    config: AuthConfig = kiln_state(app).auth_config
    return config


def make_user(
    session: Session,
    email: str | None = None,
    *,
    role: Role | str = Role.viewer,
    password: str = PASSWORD,
    name: str = "",
    project_role: Role | str | None = None,
) -> User:
    """A user with ``role``; with ``project_role``, also a member of the default project."""
    data = UserCreate(email=email or f"{unique('user')}@example.com", name=name, role=role, password=password)
    user = service.create_user(session, SYSTEM, data)
    if project_role is not None:
        project = projects.ensure_default_project(session)
        projects.set_member(session, SYSTEM, project.id, MemberSet(user_id=user.id, role=Role(project_role)))
    return user


def make_project(
    session: Session, name: str | None = None, *, members: dict[str, str] | None = None
) -> Project:
    """A project with members given as ``{user_id: role}``."""
    project = projects.create_project(session, SYSTEM, ProjectCreate(name=name or unique("project")))
    for user_id, role in (members or {}).items():
        projects.set_member(session, SYSTEM, project.id, MemberSet(user_id=user_id, role=role))
    return project


def make_account(
    app: FastAPI,
    *,
    role: Role | str = Role.viewer,
    email: str | None = None,
    project_role: Role | str | None = None,
) -> Account:
    """A user committed to the app's database, ready to log in with PASSWORD."""
    with database(app).unit_of_work() as session:
        user = make_user(session, email, role=role, project_role=project_role)
        return Account(user.id, user.email, PASSWORD, user.role)


def make_member(app: FastAPI, role: Role | str, *, email: str | None = None) -> Account:
    """A user with ``role`` globally and the same role in the default project."""
    return make_account(app, role=role, email=email, project_role=role)


def open_session(app: FastAPI, account: Account) -> TokenPair:
    """Tokens of a fresh login for ``account``, as the login page would issue them."""
    with database(app).unit_of_work() as session:
        return tokens.open_session(session, service.get_user(session, account.id), auth_config(app))


def access_token(app: FastAPI, account: Account) -> str:
    return open_session(app, account).access_token


def make_user_token(app: FastAPI, email: str | None = None, *, role: Role | str = Role.viewer) -> str:
    """A member of the default project with ``role``, logged in; returns a Bearer access token."""
    return access_token(app, make_member(app, role, email=email))


def make_api_key(
    app: FastAPI, account: Account, project_id: str, role: Role | str = Role.viewer
) -> tuple[str, str]:
    """A project key of ``account`` with ``role``, made as the account would make it: (its id, the key)."""
    with database(app).unit_of_work() as session:
        actor = service.user_actor(service.get_user(session, account.id))
        data = ApiKeyCreate(name=unique("key"), project_id=project_id, role=Role(role))
        key, secret = api_keys.create_api_key(
            session, actor, data, max_days=auth_config(app).api_key_max_days
        )
        return key.id, secret


def default_project_id(app: FastAPI) -> str:
    with database(app).unit_of_work() as session:
        return projects.ensure_default_project(session).id


def update_user(app: FastAPI, user_id: str, **changes: Any) -> None:
    """What an administrator does on the users page, done by the system actor."""
    with database(app).unit_of_work() as session:
        service.admin_update_user(session, SYSTEM, user_id, UserAdminUpdate(**changes))


def setup_token(app: FastAPI) -> str:
    """The one-time token a fresh install printed to its log (kept on the app for in-process tests)."""
    token = kiln_state(app).setup_token
    assert isinstance(token, str), "the app was built with accounts already in the database"
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(app: FastAPI, token: str | None = None, **kwargs: Any) -> TestClient:
    """A client that answers server errors with their 500 (so a test can assert on them)."""
    headers = bearer(token) if token else {}
    return TestClient(app, headers=headers, raise_server_exceptions=False, **kwargs)


def admin_client(app: FastAPI) -> TestClient:
    """A TestClient for ``app`` authenticated as a fresh admin (for tests that build their own app)."""
    return TestClient(app, headers=bearer(make_user_token(app, role=Role.admin)))
