"""Accounts: registration, confirmation, login, password reset and change, profiles, administration."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth import tokens
from kiln.auth.config import AuthConfig
from kiln.auth.credential_changes import credentials_changed
from kiln.auth.models import AuthSession, OneTimeToken, Project, User
from kiln.auth.passwords import check_password_strength
from kiln.auth.permissions import Role
from kiln.auth.projects import (
    DEFAULT_DESCRIPTION,
    DEFAULT_PROJECT,
    ensure_default_project,
    ensure_member,
    record_default_project_created,
)
from kiln.auth.schemas import (
    ProfileUpdate,
    RegisterRequest,
    TokenPair,
    UserAdminUpdate,
    UserCreate,
    normalise_email,
)
from kiln.core.actor import Actor
from kiln.core.db import upsert_rows
from kiln.core.errors import Conflict, Invalid, NotFound, PermissionDenied, Unauthenticated
from kiln.core.ids import ensure_utc, new_id, utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.security import burn_password_check, hash_password, new_token, token_digest, verify_password
from kiln.notify.email import Mail, Mailer

LOGIN_FAILED = "invalid email or password"
LINK_INVALID = "this link is invalid or has expired; ask for a new one"


def user_actor(user: User, *, session_id: str | None = None) -> Actor:
    return Actor(
        kind="user", id=user.id, name=user.email, role=user.role, user_id=user.id, session_id=session_id
    )


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} not found")
    return user


def list_users(session: Session, page: PageParams) -> Page[User]:
    """Every account, oldest first, with the total count."""
    return paginate(session, select(User).order_by(User.created_at, User.id), page, with_total=True)


def has_users(session: Session) -> bool:
    """Whether any account exists (the register page invites the very first visitor to become admin).

    One indexed row, rather than listing accounts for a yes or no.
    """
    return session.scalar(select(User.id).limit(1)) is not None


# -- one-time links ---------------------------------------------------------------------------


def issue_link_token(
    session: Session,
    purpose: str,
    email: str,
    *,
    ttl_seconds: float,
    user_id: str | None = None,
    role: str = "",
    project_id: str | None = None,
    created_by: str = "",
) -> str:
    token = new_token()
    now = utcnow()
    from datetime import timedelta

    session.add(
        OneTimeToken(
            purpose=purpose,
            token_hash=token_digest(token),
            email=normalise_email(email),
            user_id=user_id,
            role=role,
            project_id=project_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    session.flush()
    return token


def spend_link_token(session: Session, purpose: str, token: str) -> OneTimeToken:
    found = session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_digest(token), OneTimeToken.purpose == purpose
        )
    )
    if found is None or found.used_at is not None or ensure_utc(found.expires_at) <= utcnow():
        raise Invalid(LINK_INVALID)
    # Conditional, so that of two requests spending the same link at once only one wins.
    spent = session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == found.id, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if not spent.rowcount:  # type: ignore[attr-defined]
        raise Invalid(LINK_INVALID)
    return found


# -- the first account ------------------------------------------------------------------------

SETUP_PURPOSE = "setup"
SETUP_TTL_SECONDS = 30 * 24 * 3600
SETUP_NEEDED = (
    "this Kiln has no administrator yet: enter the setup token printed in the server log at start "
    "(event auth.setup_token), or run `kiln admin bootstrap` on the server"
)


def issue_setup_token(session: Session) -> str | None:
    """A one-time token for creating the first account, while there is none (else ``None``).

    Issued at every start of a server without accounts and shown only in its log, so a fresh
    install reachable from the network cannot be claimed by whoever finds it first.
    """
    if has_users(session):
        return None
    return issue_link_token(session, SETUP_PURPOSE, "", ttl_seconds=SETUP_TTL_SECONDS)


def spend_setup_token(session: Session, token: str | None) -> None:
    if not token:
        raise PermissionDenied(SETUP_NEEDED)
    try:
        spend_link_token(session, SETUP_PURPOSE, token)
    except Invalid:
        raise Invalid(
            "the setup token is not valid; copy it from the server log of the latest start"
        ) from None


# -- registration and login -------------------------------------------------------------------


def _create_user(session: Session, email: str, password: str, name: str, role: str) -> User:
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        raise Conflict("an account with this email already exists; log in or reset the password")
    check_password_strength(password, email=email, name=name)
    user = User(email=email, name=name, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def _take_registration_turn(session: Session) -> None:
    """Registrations take turns, so two people on a fresh install cannot both become the admin.

    The default project is created if missing (the first writer wins; the others wait for it and
    insert nothing), then its row is updated: that write lock is held until commit, so the next
    registration counts users only after this one's user exists. Works alike on PostgreSQL and SQLite.
    """
    now = utcnow()
    row = {
        "id": new_id(),
        "name": DEFAULT_PROJECT,
        "description": DEFAULT_DESCRIPTION,
        "created_at": now,
        "updated_at": now,
    }
    upsert_rows(session, Project.__table__, [row], key=["name"], update=[])
    session.execute(update(Project).where(Project.name == DEFAULT_PROJECT).values(updated_at=now))
    if session.get(Project, row["id"]) is not None:  # this registration's insert won
        record_default_project_created(session, str(row["id"]))


def register(session: Session, data: RegisterRequest, *, config: AuthConfig, mailer: Mailer) -> User:
    """The first account becomes admin (with the setup token from the server log); later ones follow
    the registration policy."""
    _take_registration_turn(session)
    is_first = (session.scalar(select(func.count()).select_from(User)) or 0) == 0
    invite: OneTimeToken | None = None
    if is_first:
        spend_setup_token(session, data.setup_token)
        role = Role.admin.value
    elif data.invite_token:
        invite = spend_link_token(session, "invite", data.invite_token)
        if invite.email != normalise_email(data.email):
            raise Invalid("this invitation was sent to another email address")
        role = invite.role
    elif config.registration == "open":
        role = Role.viewer.value
    else:
        raise PermissionDenied("registration needs an invitation; ask an administrator for one")
    user = _create_user(session, data.email, data.password, data.name, role)
    project = ensure_default_project(session)
    actor = user_actor(user)
    audit.record(session, actor, "user.registered", "user", user.id, {"email": user.email, "role": role})
    if is_first:
        ensure_member(session, actor, project.id, user.id, Role.admin.value)
    if invite is not None and invite.project_id:
        ensure_member(session, actor, invite.project_id, user.id, role)
    send_confirmation(session, user, config=config, mailer=mailer)
    return user


def send_confirmation(session: Session, user: User, *, config: AuthConfig, mailer: Mailer) -> None:
    token = issue_link_token(
        session, "confirm_email", user.email, ttl_seconds=config.confirm_ttl.total_seconds(), user_id=user.id
    )
    link = f"{config.public_url.rstrip('/')}/confirm-email?token={token}"
    mailer.queue(
        session,
        Mail(
            to=user.email,
            subject="Confirm your Kiln account",
            body=f"Welcome to Kiln.\n\nConfirm your email: {link}\n",
        ),
    )


def confirm_email(session: Session, token: str) -> User:
    spent = spend_link_token(session, "confirm_email", token)
    user = get_user(session, spent.user_id or "")
    user.email_confirmed_at = utcnow()
    audit.record(session, user_actor(user), "user.email_confirmed", "user", user.id)
    return user


def login(session: Session, email: str, password: str, *, config: AuthConfig) -> tuple[TokenPair, User]:
    user = find_user_by_email(session, email)
    if user is None:
        burn_password_check(password)
        raise Unauthenticated(LOGIN_FAILED)
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthenticated(LOGIN_FAILED)
    user.last_login_at = utcnow()
    pair = tokens.open_session(session, user, config)
    audit.record(session, user_actor(user), "user.login", "user", user.id)
    return pair, user


def logout(session: Session, refresh_token: str) -> None:
    """End the login session the refresh token belongs to (its access tokens stop working at once)."""
    session_id = tokens.session_for_refresh_token(session, refresh_token)
    if session_id is not None:
        end_session(session, session_id)


def end_session(session: Session, session_id: str) -> None:
    """Log one login session out, on the record (the UI's logout names the session directly)."""
    auth_session = session.get(AuthSession, session_id)
    if auth_session is None or not tokens.revoke_session(session, session_id, "logout"):
        return  # unknown or already ended: nothing changed, nothing to record
    user = get_user(session, auth_session.user_id)
    actor = user_actor(user, session_id=session_id)
    audit.record(session, actor, "user.logout", "user", user.id, {"session_id": session_id})


def update_profile(session: Session, actor: Actor, data: ProfileUpdate) -> User:
    user = get_user(session, actor.user_id or "")
    if data.name is not None:
        user.name = data.name
    if data.notification_settings is not None:
        user.notification_settings = {**user.notification_settings, **data.notification_settings}
    audit.record(session, actor, "user.profile_updated", "user", user.id, data.model_dump(exclude_none=True))
    return user


# -- administration ---------------------------------------------------------------------------


def create_user(session: Session, actor: Actor, data: UserCreate) -> User:
    user = _create_user(session, data.email, data.password, data.name, data.role.value)
    audit.record(session, actor, "user.created", "user", user.id, {"email": user.email, "role": user.role})
    return user


def admin_update_user(session: Session, actor: Actor, user_id: str, data: UserAdminUpdate) -> User:
    user = get_user(session, user_id)
    if user.id == actor.user_id and (data.is_active is False or (data.role and data.role != Role.admin)):
        raise Invalid("administrators cannot deactivate or demote themselves; ask another admin")
    changes = data.model_dump(exclude_none=True, mode="json")
    if data.role is not None or data.is_active is not None:
        credentials_changed(session)
    if data.role is not None:
        user.role = data.role.value
    if data.is_active is not None:
        user.is_active = data.is_active
        if not data.is_active:
            tokens.revoke_all_sessions(session, user.id, "deactivated")
    audit.record(session, actor, "user.updated", "user", user.id, changes)
    return user


def invite(
    session: Session,
    actor: Actor,
    email: str,
    role: str,
    project_id: str | None,
    *,
    config: AuthConfig,
    mailer: Mailer,
) -> OneTimeToken:
    if find_user_by_email(session, email) is not None:
        raise Conflict("an account with this email already exists")
    if project_id is not None and session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id!r} not found")
    token = issue_link_token(
        session,
        "invite",
        email,
        ttl_seconds=config.invite_ttl.total_seconds(),
        role=role,
        project_id=project_id,
        created_by=actor.id,
    )
    query = urlencode({"invite": token, "email": normalise_email(email)})
    link = f"{config.public_url.rstrip('/')}/register?{query}"
    mailer.queue(
        session, Mail(to=email, subject="You are invited to Kiln", body=f"Join Kiln as {role}: {link}\n")
    )
    spent = session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == token_digest(token)))
    assert spent is not None
    audit.record(session, actor, "user.invited", "invite", spent.id, {"email": email, "role": role})
    return spent
