"""API keys for automation: scoped to one project and a role no higher than the creator's.

The key is shown once; only its sha256 is stored. A key stops working when it is revoked, when it
expires (at most ``max_days`` after it was made, ``KILN_API_KEY_MAX_DAYS``), or at once when its
owner is deactivated (checked on every request). An administrator may make a *global* key (no
project) on purpose; it works only while its owner is still an administrator.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.credential_changes import credentials_changed
from kiln.auth.models import ApiKey, Project, ProjectMember, User
from kiln.auth.permissions import Role, at_most, lower_role
from kiln.auth.projects import project_role
from kiln.auth.schemas import DEFAULT_KEY_DAYS, ApiKeyCreate
from kiln.core.actor import Actor
from kiln.core.errors import Invalid, NotFound, PermissionDenied, ValidationFailed
from kiln.core.ids import ensure_utc, utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.security import new_token, token_digest

KEY_PREFIX = "kiln_"


def create_api_key(
    session: Session, actor: Actor, data: ApiKeyCreate, *, max_days: int
) -> tuple[ApiKey, str]:
    if actor.kind != "user" or actor.user_id is None:
        raise PermissionDenied("API keys are created by users, not by other keys")
    days = _lifetime_days(data, max_days)
    if data.project_id is None:
        if not actor.is_admin:
            raise PermissionDenied("only administrators can create global keys; choose a project")
    else:
        role_in_project = project_role(session, actor, data.project_id)
        if role_in_project is None or session.get(Project, data.project_id) is None:
            raise NotFound(f"project {data.project_id!r} not found")
        if not at_most(data.role.value, role_in_project):
            raise Invalid(f"a key's role cannot be higher than yours in this project ({role_in_project})")
    key = new_token(KEY_PREFIX)
    now = utcnow()
    api_key = ApiKey(
        user_id=actor.user_id,
        project_id=data.project_id,
        name=data.name,
        role=data.role.value,
        prefix=key[:12],
        key_hash=token_digest(key),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(api_key)
    session.flush()
    audit.record(
        session,
        actor,
        "api_key.created",
        "api_key",
        api_key.id,
        {
            "name": data.name,
            "role": data.role.value,
            "scope": api_key.scope,
            "project_id": data.project_id,
            "expires_in_days": days,
        },
    )
    return api_key, key


def _lifetime_days(data: ApiKeyCreate, max_days: int) -> int:
    if "expires_in_days" not in data.model_fields_set:
        return min(DEFAULT_KEY_DAYS, max_days)  # the default never exceeds a lower server maximum
    if data.expires_in_days > max_days:
        raise ValidationFailed(
            f"expires_in_days: at most {max_days} days on this server (KILN_API_KEY_MAX_DAYS)",
            details={"max_days": max_days},
        )
    return data.expires_in_days


def list_api_keys(session: Session, actor: Actor, page: PageParams | None = None) -> Page[ApiKey]:
    """The actor's own keys, newest first, revoked and expired ones included."""
    return list_keys_of(session, actor.user_id or "", page)


def list_keys_of(session: Session, user_id: str, page: PageParams | None = None) -> Page[ApiKey]:
    """Keys of one user, newest first (their own page, or an administrator's view of them);
    ``page=None`` gives all of them."""
    query = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc(), ApiKey.id)
    if page is None:
        return Page(items=list(session.scalars(query)))
    return paginate(session, query, page, with_total=True)


def revoke_api_key(session: Session, actor: Actor, key_id: str) -> ApiKey:
    """Users revoke their own keys, administrators (users or global keys) anyone's; a key only itself."""
    if actor.kind == "api_key" and key_id != actor.id and not actor.is_admin:
        raise PermissionDenied("an API key can revoke only itself; log in to manage your other keys")
    api_key = session.get(ApiKey, key_id)
    if api_key is None or (api_key.user_id != actor.user_id and not actor.is_admin):
        raise NotFound(f"API key {key_id!r} not found")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        credentials_changed(session)
        audit.record(session, actor, "api_key.revoked", "api_key", api_key.id)
    return api_key


def revoke_calling_key(session: Session, actor: Actor) -> ApiKey:
    if actor.kind != "api_key":
        raise Invalid("this request is not made with an API key; name the key to revoke by its id")
    return revoke_api_key(session, actor, actor.id)


def revoke_all_api_keys(session: Session, user_id: str) -> list[str]:
    """Revoke every live key of the user (after a password reset); the ids of the keys revoked."""
    live = list(
        session.scalars(select(ApiKey.id).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)))
    )
    if live:
        session.execute(
            update(ApiKey).where(ApiKey.id.in_(live), ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
        credentials_changed(session)
    return live


def authenticate_api_key(session: Session, key: str, *, max_days: int) -> Actor | None:
    """The actor behind a key, in one query: the key, its owner and the owner's membership in its project."""
    found = api_key_grant(session, key, max_days=max_days)
    return found[0] if found is not None else None


def api_key_grant(session: Session, key: str, *, max_days: int) -> tuple[Actor, datetime] | None:
    """``authenticate_api_key``'s actor and when the key stops working (its expiry, or the server maximum)."""
    row = session.connection().execute(_KEY_LOOKUP, {"digest": token_digest(key)}).first()
    if row is None:
        return None
    now = utcnow()
    # The server maximum bounds every key, also one made before it was lowered (or without expiry).
    latest = ensure_utc(row.created_at) + timedelta(days=max_days)
    expires = min(ensure_utc(row.expires_at), latest) if row.expires_at is not None else latest
    if expires <= now:
        return None
    owner_role = _owner_role_in_key_scope(row.owner_role, row.project_id, row.member_role)
    if owner_role is None:
        return None
    role = row.role if at_most(row.role, owner_role) else owner_role
    if row.last_used_at is None or (now - ensure_utc(row.last_used_at)).total_seconds() > 60:
        # Coarse, so a busy key does not write on every request.
        session.connection().execute(_TOUCH_KEY, {"key_id": row.id, "now": now})
    actor = Actor(
        kind="api_key",
        id=row.id,
        name=f"{row.email} (key {row.name})",
        role=role,
        user_id=row.user_id,
        project_id=row.project_id,
    )
    return actor, expires


# Built once: on the request path, constructing a statement costs more than running it.
_KEY_LOOKUP = (
    select(
        ApiKey.id,
        ApiKey.user_id,
        ApiKey.project_id,
        ApiKey.name,
        ApiKey.role,
        ApiKey.created_at,
        ApiKey.expires_at,
        ApiKey.last_used_at,
        User.email,
        User.role.label("owner_role"),
        ProjectMember.role.label("member_role"),
    )
    .join(User, User.id == ApiKey.user_id)
    .outerjoin(
        ProjectMember,
        (ProjectMember.project_id == ApiKey.project_id) & (ProjectMember.user_id == ApiKey.user_id),
    )
    .where(ApiKey.key_hash == bindparam("digest"), ApiKey.revoked_at.is_(None), User.is_active.is_(True))
)
_TOUCH_KEY = update(ApiKey).where(ApiKey.id == bindparam("key_id")).values(last_used_at=bindparam("now"))


def record_key_use(session: Session, last_used: dict[str, datetime]) -> None:
    """Write when keys were last used, in one executemany: the credential cache
    collects its hits in memory and hands them here about once a minute."""
    if last_used:
        rows = [{"key_id": key_id, "now": at} for key_id, at in last_used.items()]
        session.connection().execute(_TOUCH_KEY, rows)


def _owner_role_in_key_scope(owner_role: str, project_id: str | None, member_role: str | None) -> str | None:
    """What the key's owner may do where the key acts today (a key never outranks its owner).

    A global key is an administrator's: it stops when its owner is no longer one. A project key
    follows the owner's current membership: a lowered role or a removed membership applies to the
    owner's keys on their very next request (the rule of ``projects.project_role`` for users).
    """
    if owner_role == Role.admin.value:
        return Role.admin.value
    if project_id is None or member_role is None:
        return None
    return lower_role(member_role, owner_role)


def _owner_actor(owner: User) -> Actor:
    return Actor(kind="user", id=owner.id, name=owner.email, role=owner.role, user_id=owner.id)
