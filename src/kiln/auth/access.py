"""Who is calling: a bearer access token (JWT) or an API key, checked against the database each time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kiln.auth.api_keys import KEY_PREFIX, api_key_grant
from kiln.auth.config import AuthConfig
from kiln.auth.models import AuthSession, User
from kiln.auth.permissions import with_permissions
from kiln.core.actor import Actor
from kiln.core.ids import ensure_utc, utcnow
from kiln.core.security import decode_access_token


@dataclass(frozen=True, slots=True)
class Grant:
    """The actor behind a credential, with its permissions resolved, and when the credential stops
    working by itself (the key's expiry; the access token's, or its login's if that ends first)."""

    actor: Actor
    valid_until: datetime


def authenticate(session: Session, token: str, config: AuthConfig) -> Actor | None:
    """The actor behind a credential with its permissions resolved, or ``None``.

    Deactivation, role changes and revocation apply at once: everything is read again each time.
    """
    grant = credential_grant(session, token, config)
    return grant.actor if grant is not None else None


def credential_grant(session: Session, token: str, config: AuthConfig) -> Grant | None:
    """``authenticate``, with the credential's own end (what the serving path's cache keeps)."""
    found = _credential_actor(session, token, config)
    if found is None:
        return None
    actor, valid_until = found
    return Grant(with_permissions(actor), valid_until)


def _credential_actor(session: Session, token: str, config: AuthConfig) -> tuple[Actor, datetime] | None:
    if token.startswith(KEY_PREFIX):
        return api_key_grant(session, token, max_days=config.api_key_max_days)
    claims = decode_access_token(token, secret=config.secret_key)
    if claims is None:
        return None
    session_id = str(claims.get("sid", ""))
    # One query: the user and their login session, both still good.
    params = {"user_id": str(claims["sub"]), "session_id": session_id, "now": utcnow()}
    row = session.connection().execute(_LIVE_USER, params).first()
    if row is None:
        return None
    actor = Actor(
        kind="user", id=row.id, name=row.email, role=row.role, user_id=row.id, session_id=session_id
    )
    return actor, min(datetime.fromtimestamp(int(claims["exp"]), UTC), ensure_utc(row.expires_at))


# Built once: on the request path, constructing a statement costs more than running it.
_LIVE_USER = (
    select(User.id, User.email, User.role, AuthSession.expires_at)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.is_active.is_(True),
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
    )
)
