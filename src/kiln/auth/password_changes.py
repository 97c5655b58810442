"""Passwords changing hands: reset by a mailed link, change by the user, reset by an administrator.

Whatever the route, a new password voids the user's other reset links; which routes also revoke the
user's API keys is written in ``docs/auth.md`` (an admin reset always does, a mailed reset by default).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth import api_keys, tokens
from kiln.auth.config import AuthConfig
from kiln.auth.models import OneTimeToken, User
from kiln.auth.passwords import check_password_strength
from kiln.auth.schemas import normalise_email
from kiln.auth.service import (
    LINK_INVALID,
    find_user_by_email,
    get_user,
    issue_link_token,
    spend_link_token,
    user_actor,
)
from kiln.core.actor import ANONYMOUS, Actor
from kiln.core.errors import Invalid
from kiln.core.ids import utcnow
from kiln.core.security import hash_password, new_token, token_digest, verify_password
from kiln.notify.email import Mail, Mailer


def request_password_reset(session: Session, email: str, *, config: AuthConfig, mailer: Mailer) -> None:
    """Answers the same way, after about the same work, whether or not the address has an account."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        # The same writes as for an account (a link token, an audit record), so that the time taken
        # does not tell the two apart. The token names no user, is never mailed and can never be
        # spent; the record keeps only a digest of the address, not the address someone typed.
        issue_link_token(
            session, "reset_password", email, ttl_seconds=config.reset_ttl.total_seconds(), user_id=None
        )
        digest = token_digest(normalise_email(email))[:32]
        audit.record(session, ANONYMOUS, "user.password_reset_requested", "email", digest, {"known": False})
        return
    _mail_reset_link(session, user, config=config, mailer=mailer, by_admin=False)
    audit.record(session, user_actor(user), "user.password_reset_requested", "user", user.id)


def _mail_reset_link(
    session: Session, user: User, *, config: AuthConfig, mailer: Mailer, by_admin: bool
) -> None:
    token = issue_link_token(
        session, "reset_password", user.email, ttl_seconds=config.reset_ttl.total_seconds(), user_id=user.id
    )
    link = f"{config.public_url.rstrip('/')}/reset-password?token={token}"
    minutes = int(config.reset_ttl.total_seconds() // 60)
    if by_admin:
        body = (
            "An administrator reset your Kiln password; the old one no longer works.\n\n"
            f"Set a new one within {minutes} minutes: {link}\n"
        )
    else:
        body = (
            "Someone asked to reset your Kiln password.\n\n"
            f"Set a new one within {minutes} minutes: {link}\n\n"
            "If it was not you, ignore this mail; your password stays as it is.\n"
        )
    mailer.queue(session, Mail(to=user.email, subject="Reset your Kiln password", body=body))


def _void_reset_links(session: Session, user_id: str) -> None:
    """Once the password changes (by any route), no older reset link may change it again."""
    session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == "reset_password",
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def _after_password_change(session: Session, user: User, *, revoke_api_keys: bool) -> dict[str, object]:
    _void_reset_links(session, user.id)
    revoked = api_keys.revoke_all_api_keys(session, user.id) if revoke_api_keys else []
    return {"api_keys_revoked": revoked}


def reset_password(session: Session, token: str, new_password: str, *, revoke_api_keys: bool = True) -> User:
    """Set a new password with a mailed link. The user's API keys are revoked too unless they say
    otherwise: a forgotten password may be a compromised one, and whoever held the account may
    have minted keys."""
    spent = spend_link_token(session, "reset_password", token)
    if spent.user_id is None:
        raise Invalid(LINK_INVALID)
    user = get_user(session, spent.user_id)
    check_password_strength(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    tokens.revoke_all_sessions(session, user.id, "password_reset")
    details = _after_password_change(session, user, revoke_api_keys=revoke_api_keys)
    audit.record(session, user_actor(user), "user.password_reset", "user", user.id, details)
    return user


def change_password(
    session: Session, actor: Actor, current: str, new: str, *, revoke_api_keys: bool = False
) -> None:
    user = get_user(session, actor.user_id or "")
    if not verify_password(user.password_hash, current):
        raise Invalid("the current password is not correct")
    check_password_strength(new, email=user.email, name=user.name)
    user.password_hash = hash_password(new)
    # Whoever else is logged in with the old password is logged out; the caller stays in.
    tokens.revoke_all_sessions(session, user.id, "password_changed", keep=actor.session_id)
    details = _after_password_change(session, user, revoke_api_keys=revoke_api_keys)
    audit.record(session, actor, "user.password_changed", "user", user.id, details)


def admin_reset_password(
    session: Session, actor: Actor, user_id: str, *, config: AuthConfig, mailer: Mailer
) -> None:
    user = get_user(session, user_id)
    # A reset (say, of a compromised account) must stop the old password too, not only the
    # sessions and the keys: the user sets a new one through the link mailed now (older links die).
    user.password_hash = hash_password(new_token())
    tokens.revoke_all_sessions(session, user.id, "admin_password_reset")
    details = _after_password_change(session, user, revoke_api_keys=True)
    if user.is_active:
        _mail_reset_link(session, user, config=config, mailer=mailer, by_admin=True)
    # Recorded once, as the administrator's doing (not as a request by the user).
    audit.record(session, actor, "user.password_reset_by_admin", "user", user.id, details)
