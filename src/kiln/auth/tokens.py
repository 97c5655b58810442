"""Login sessions: short-lived access JWTs and rotating refresh tokens with reuse detection.

Each login opens an ``AuthSession``; its refresh tokens form a family. Refreshing spends the
presented token and issues the next; presenting a spent token again means it was stolen or
replayed, so the whole family is revoked. Access tokens carry the session id and are checked
against it on every request, so logout and revocation take effect at once.

Two requests of one browser often refresh at once (several tabs restored, a double click). So for
``REFRESH_GRACE`` after a token was spent, presenting it again answers with the same successor
refresh token (and a fresh access token) instead of counting as reuse. The successor is derived
from the spent token with an HMAC under the server's secret, so it can be handed out again without
storing any token in the clear. After the grace window, a spent token revokes the session as before.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.config import AuthConfig
from kiln.auth.credential_changes import credentials_changed
from kiln.auth.models import AuthSession, RefreshToken, User
from kiln.auth.schemas import TokenPair
from kiln.core.actor import SYSTEM
from kiln.core.ids import ensure_utc, utcnow
from kiln.core.security import encode_access_token, new_token, token_digest

REFRESH_PREFIX = "kr_"
# How long a just-spent refresh token still yields its successor (concurrent refreshes of one browser).
REFRESH_GRACE = timedelta(seconds=30)


def _issue(
    session: Session,
    auth_session: AuthSession,
    user: User,
    config: AuthConfig,
    *,
    refresh: str | None = None,
) -> TokenPair:
    refresh = refresh or new_token(REFRESH_PREFIX)
    session.add(
        RefreshToken(session_id=auth_session.id, token_hash=token_digest(refresh), created_at=utcnow())
    )
    session.flush()
    return _pair(auth_session, user, config, refresh)


def _pair(auth_session: AuthSession, user: User, config: AuthConfig, refresh: str) -> TokenPair:
    access = encode_access_token(
        {"sub": user.id, "sid": auth_session.id}, secret=config.secret_key, ttl=config.access_ttl
    )
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=int(config.access_ttl.total_seconds())
    )


def _successor(refresh_token: str, config: AuthConfig) -> str:
    """The refresh token that follows ``refresh_token``: the same every time it is asked for."""
    digest = hmac.new(config.secret_key.encode(), refresh_token.encode(), hashlib.sha256).hexdigest()
    return REFRESH_PREFIX + digest


def open_session(session: Session, user: User, config: AuthConfig) -> TokenPair:
    now = utcnow()
    auth_session = AuthSession(user_id=user.id, created_at=now, expires_at=now + config.session_ttl)
    session.add(auth_session)
    session.flush()
    return _issue(session, auth_session, user, config)


def revoke_session(session: Session, session_id: str, reason: str) -> bool:
    """End one session; ``True`` when it was still live (so the caller knows something changed)."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    credentials_changed(session)
    return True


def revoke_all_sessions(session: Session, user_id: str, reason: str, *, keep: str | None = None) -> None:
    """End every session of the user, except ``keep`` (the caller's own, when it should survive)."""
    statement = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep:
        statement = statement.where(AuthSession.id != keep)
    result = session.execute(statement.values(revoked_at=utcnow(), revoked_reason=reason))
    if result.rowcount:  # type: ignore[attr-defined]
        credentials_changed(session)


def _live_session(session: Session, session_id: str) -> AuthSession | None:
    found = session.get(AuthSession, session_id)
    if found is None or found.revoked_at is not None or ensure_utc(found.expires_at) <= utcnow():
        return None
    return found


def refresh_tokens(session: Session, refresh_token: str, config: AuthConfig) -> TokenPair | None:
    """Spend a refresh token and issue the next pair; ``None`` when the token is not honoured.

    Returns rather than raises so the caller's unit of work still commits a reuse revocation.
    """
    token = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token)))
    if token is None:
        return None
    if token.used_at is not None:
        return _spent_again(session, token, refresh_token, config)
    auth_session = _live_session(session, token.session_id)
    user = session.get(User, auth_session.user_id) if auth_session else None
    if auth_session is None or user is None or not user.is_active:
        return None
    if not _spend(session, token):
        # Another request spent it since we read it: the browser's other tab, or a thief racing it.
        return _spent_again(session, token, refresh_token, config)
    return _issue(session, auth_session, user, config, refresh=_successor(refresh_token, config))


def _spent_again(
    session: Session, token: RefreshToken, refresh_token: str, config: AuthConfig
) -> TokenPair | None:
    """A spent token came back: its successor within the grace window, else the family is revoked."""
    used_at = session.scalar(select(RefreshToken.used_at).where(RefreshToken.id == token.id))
    if used_at is not None and utcnow() - ensure_utc(used_at) <= REFRESH_GRACE:
        successor = _successor(refresh_token, config)
        live_successor = session.scalar(
            select(RefreshToken.id).where(
                RefreshToken.token_hash == token_digest(successor),
                RefreshToken.session_id == token.session_id,
                RefreshToken.used_at.is_(None),
            )
        )
        auth_session = _live_session(session, token.session_id)
        user = session.get(User, auth_session.user_id) if auth_session else None
        if live_successor is not None and auth_session is not None and user is not None and user.is_active:
            return _pair(auth_session, user, config, successor)
        if auth_session is None or user is None or not user.is_active:
            return None  # the session ended anyway: nothing to revoke, nothing to hand out
    if revoke_session(session, token.session_id, "refresh_token_reuse"):
        _record_reuse(session, token.session_id)
    return None


def _spend(session: Session, token: RefreshToken) -> bool:
    # A conditional UPDATE, not read-then-write: of two concurrent spenders, the second waits for
    # the first's row lock, then finds the token spent and updates nothing.
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _record_reuse(session: Session, session_id: str) -> None:
    # A spent refresh token came back: stolen or replayed. Whoever sent it is unknown, so the
    # system records the revocation, with the user as the target an administrator can look up.
    auth_session = session.get(AuthSession, session_id)
    if auth_session is not None:
        audit.record(
            session,
            SYSTEM,
            "session.revoked",
            "user",
            auth_session.user_id,
            {"session_id": session_id, "reason": "refresh_token_reuse"},
        )


def session_for_refresh_token(session: Session, refresh_token: str) -> str | None:
    token = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token)))
    return token.session_id if token else None


def is_session_live(session: Session, session_id: str) -> bool:
    return _live_session(session, session_id) is not None
