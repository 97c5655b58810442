"""Who is calling: a bearer access token (JWT) or an API key, checked against the database each time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiln.auth.api_keys import KEY_PREFIX, authenticate_api_key
from kiln.auth.config import AuthConfig
from kiln.auth.models import User
from kiln.auth.permissions import with_permissions
from kiln.auth.service import user_actor
from kiln.auth.tokens import is_session_live
from kiln.core.actor import Actor
from kiln.core.security import decode_access_token


def authenticate(session: Session, token: str, config: AuthConfig) -> Actor | None:
    """The actor behind a credential with its permissions resolved, or ``None``.

    Deactivation, role changes and revocation apply at once: everything is read again each time.
    """
    actor = _credential_actor(session, token, config)
    return with_permissions(actor) if actor is not None else None


def _credential_actor(session: Session, token: str, config: AuthConfig) -> Actor | None:
    if token.startswith(KEY_PREFIX):
        return authenticate_api_key(session, token, max_days=config.api_key_max_days)
    claims = decode_access_token(token, secret=config.secret_key)
    if claims is None:
        return None
    user = session.get(User, str(claims["sub"]))
    session_id = str(claims.get("sid", ""))
    if user is None or not user.is_active or not is_session_live(session, session_id):
        return None
    return user_actor(user, session_id=session_id)
