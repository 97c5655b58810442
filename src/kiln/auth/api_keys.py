"""API keys for automation: scoped to one project and a role no higher than the creator's.

The key is shown once; only its sha256 is stored. A key stops working when it is revoked, when it
expires, or at once when its owner is deactivated (checked on every request).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.models import ApiKey, Project, User
from kiln.auth.permissions import at_most
from kiln.auth.projects import project_role
from kiln.auth.schemas import ApiKeyCreate
from kiln.core.actor import Actor
from kiln.core.errors import Invalid, NotFound, PermissionDenied
from kiln.core.ids import ensure_utc, utcnow
from kiln.core.security import new_token, token_digest

KEY_PREFIX = "kiln_"


def create_api_key(session: Session, actor: Actor, data: ApiKeyCreate) -> tuple[ApiKey, str]:
    if actor.kind != "user" or actor.user_id is None:
        raise PermissionDenied("API keys are created by users, not by other keys")
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
        expires_at=now + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    session.add(api_key)
    session.flush()
    audit.record(
        session,
        actor,
        "api_key.created",
        "api_key",
        api_key.id,
        {"name": data.name, "role": data.role.value, "project_id": data.project_id},
    )
    return api_key, key


def list_api_keys(session: Session, actor: Actor) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.user_id == actor.user_id).order_by(ApiKey.created_at.desc())
        )
    )


def revoke_api_key(session: Session, actor: Actor, key_id: str) -> ApiKey:
    api_key = session.get(ApiKey, key_id)
    if api_key is None or (api_key.user_id != actor.user_id and not actor.is_admin):
        raise NotFound(f"API key {key_id!r} not found")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        audit.record(session, actor, "api_key.revoked", "api_key", api_key.id)
    return api_key


def authenticate_api_key(session: Session, key: str) -> Actor | None:
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == token_digest(key)))
    if api_key is None or api_key.revoked_at is not None:
        return None
    now = utcnow()
    if api_key.expires_at is not None and ensure_utc(api_key.expires_at) <= now:
        return None
    owner = session.get(User, api_key.user_id)
    if owner is None or not owner.is_active:
        return None
    # A key never outranks what its owner may do in the key's project today: a lowered role or a
    # removed membership applies to the owner's keys on their very next request.
    owner_role = project_role(session, _owner_actor(owner), api_key.project_id)
    if owner_role is None:
        return None
    role = api_key.role if at_most(api_key.role, owner_role) else owner_role
    last_used = api_key.last_used_at
    if last_used is None or (now - ensure_utc(last_used)).total_seconds() > 60:
        api_key.last_used_at = now  # coarse, so a busy key does not write on every request
    return Actor(
        kind="api_key",
        id=api_key.id,
        name=f"{owner.email} (key {api_key.name})",
        role=role,
        user_id=owner.id,
        project_id=api_key.project_id,
    )


def _owner_actor(owner: User) -> Actor:
    return Actor(kind="user", id=owner.id, name=owner.email, role=owner.role, user_id=owner.id)
