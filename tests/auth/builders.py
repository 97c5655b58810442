"""Forgery and tampering for the auth tests, on purpose outside the services: tokens signed with the
server's secret, and refresh tokens aged straight in the database (rather than waiting).

Users, sessions and projects made the honest way are built by tests/builders/auth.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from fastapi import FastAPI
from sqlalchemy import update

from kiln.auth import tokens
from kiln.auth.models import RefreshToken
from kiln.core.ids import utcnow
from kiln.core.security import JWT_ALGORITHM, token_digest
from tests.builders.core import database


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


def spent_long_ago(app: FastAPI, refresh_token: str) -> None:
    """Move a spent refresh token's spending out of the grace window (rather than waiting 30 s)."""
    with database(app).unit_of_work() as session:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token_digest(refresh_token))
            .values(used_at=utcnow() - tokens.REFRESH_GRACE - timedelta(seconds=1))
        )
