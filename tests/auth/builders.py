"""Builders for the auth and audit tests: role-holding accounts, bearer clients, forged tokens.

Accounts are made through the auth services (``tests/auth_builders.py``); argon2 is deliberately slow,
so tests make as few users as they can and get tokens from the session service instead of logging in
over HTTP, unless logging in is what they test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kiln.app import kiln_state
from kiln.audit.models import AuditRecord
from kiln.auth import projects, service, tokens
from kiln.auth.config import AuthConfig
from kiln.auth.models import RefreshToken
from kiln.auth.permissions import Role
from kiln.auth.schemas import MemberSet, UserAdminUpdate
from kiln.core.actor import SYSTEM
from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.core.security import JWT_ALGORITHM, token_digest
from tests.auth_builders import Account, make_account, open_session

STRONG_PASSWORD = "cobalt-harbour-whistles-93"


def database(app: FastAPI) -> Database:
    db: Database = kiln_state(app).db
    return db


def auth_config(app: FastAPI) -> AuthConfig:
    config: AuthConfig = kiln_state(app).auth_config
    return config


def make_member(app: FastAPI, role: Role | str, *, email: str | None = None) -> Account:
    """A user with ``role`` globally and the same role in the default project."""
    account = make_account(app, role=role, email=email)
    with database(app).unit_of_work() as session:
        project = projects.ensure_default_project(session)
        projects.set_member(session, SYSTEM, project.id, MemberSet(user_id=account.id, role=Role(role)))
    return account


def default_project_id(app: FastAPI) -> str:
    with database(app).unit_of_work() as session:
        return projects.ensure_default_project(session).id


def access_token(app: FastAPI, account: Account) -> str:
    return open_session(app, account).access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(app: FastAPI, token: str | None = None, **kwargs: Any) -> TestClient:
    """A client that answers server errors with their 500 (so a test can assert on them)."""
    headers = bearer(token) if token else {}
    return TestClient(app, headers=headers, raise_server_exceptions=False, **kwargs)


def forge_access_token(
    *,
    secret: str,
    subject: str,
    session_id: str,
    issued: timedelta = timedelta(0),
    lifetime: timedelta = timedelta(minutes=15),
    **extra: Any,
) -> str:
    """An access JWT as Kiln would sign it, issued ``issued`` ago (negative: in the future)."""
    now = utcnow() - issued
    claims = {"sub": subject, "sid": session_id, "iat": now, "exp": now + lifetime, "typ": "access", **extra}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def update_user(app: FastAPI, user_id: str, **changes: Any) -> None:
    """What an administrator does on the users page, done by the system actor."""
    with database(app).unit_of_work() as session:
        service.admin_update_user(session, SYSTEM, user_id, UserAdminUpdate(**changes))


def audit_records(app: FastAPI) -> list[AuditRecord]:
    with database(app).unit_of_work() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error


def setup_token(app: FastAPI) -> str:
    """The one-time token a fresh install printed to its log (kept on the app for in-process tests)."""
    token = kiln_state(app).setup_token
    assert isinstance(token, str), "the app was built with accounts already in the database"
    return token


def spent_long_ago(app: FastAPI, refresh_token: str) -> None:
    """Move a spent refresh token's spending out of the grace window (rather than waiting 30 s)."""
    with database(app).unit_of_work() as session:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token_digest(refresh_token))
            .values(used_at=utcnow() - tokens.REFRESH_GRACE - timedelta(seconds=1))
        )
