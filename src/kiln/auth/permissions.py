"""Roles and what each may do. One table; routes name a permission, services check project roles.

Next to the table: which permissions reach beyond one project (refused to project-scoped API keys)
and which act on the account itself (refused to every API key). ``refusal`` applies both.
"""

from __future__ import annotations

from enum import StrEnum

from kiln.core.actor import Actor


class Role(StrEnum):
    viewer = "viewer"
    data_scientist = "data_scientist"
    ml_engineer = "ml_engineer"
    admin = "admin"


RANK = {Role.viewer: 0, Role.data_scientist: 1, Role.ml_engineer: 2, Role.admin: 3}

_VIEWER = {
    "experiments:read",
    "runs:read",
    "artifacts:read",
    "projects:read",
    "models:read",
    "deployments:read",
    "predictions:create",
    "profile:read",
    "profile:write",
    "api_keys:write",
    "api_keys:revoke",
}
_DATA_SCIENTIST = _VIEWER | {
    "experiments:write",
    "runs:write",
    "artifacts:write",
    "datasets:write",
    "models:write",
    "models:promote_staging",
}
_ML_ENGINEER = _DATA_SCIENTIST | {
    "pipelines:write",
    "deployments:write",
    "models:promote_production",
}
_ADMIN = _ML_ENGINEER | {
    "users:admin",
    "projects:create",
    "projects:admin",
    "audit:read",
}

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.viewer: frozenset(_VIEWER),
    Role.data_scientist: frozenset(_DATA_SCIENTIST),
    Role.ml_engineer: frozenset(_ML_ENGINEER),
    Role.admin: frozenset(_ADMIN),
}
ALL_PERMISSIONS = frozenset().union(*PERMISSIONS.values())

# Beyond any one project: every user, new projects, the whole audit trail. A user with the role has
# them; an API key only when it is a global key (no project), which only an admin creates on purpose.
# (Managing another person's keys is the same power; ``api_keys.revoke_api_key`` checks it.)
GLOBAL_PERMISSIONS = frozenset({"users:admin", "projects:create", "audit:read"})
# The account itself (profile, password, creating and listing keys): for a person logged in, never a
# key, so a leaked key cannot lock its owner out or mint itself successors. A key may still read
# ``/me`` (``profile:read``) and revoke itself (``api_keys:revoke``).
ACCOUNT_PERMISSIONS = frozenset({"profile:write", "api_keys:write"})


def allows(role: str, permission: str) -> bool:
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def refusal(actor: Actor, permission: str) -> str | None:
    """Why ``actor`` may not use ``permission``, or ``None`` when it may."""
    if not allows(actor.role, permission):
        return f"your role ({actor.role}) does not allow {permission}"
    if actor.kind == "api_key" and permission in ACCOUNT_PERMISSIONS:
        return f"{permission} needs a login session; an API key cannot change its owner's account"
    if actor.project_scoped and permission in GLOBAL_PERMISSIONS:
        return f"{permission} reaches beyond one project; a project's API key cannot use it"
    return None


def lower_role(a: str, b: str) -> str:
    return a if RANK[Role(a)] <= RANK[Role(b)] else b


def at_most(role: str, ceiling: str) -> bool:
    return RANK[Role(role)] <= RANK[Role(ceiling)]


def grantable_roles(role: str) -> list[Role]:
    """Roles someone holding ``role`` may give a key: none above their own (``create_api_key`` also
    checks their role in the key's project)."""
    try:
        ceiling = RANK[Role(role)]
    except ValueError:
        return []
    return [candidate for candidate in Role if RANK[candidate] <= ceiling]
