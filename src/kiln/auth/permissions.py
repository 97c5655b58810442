"""Roles and what each may do. One table; routes name a permission, services check project roles."""

from __future__ import annotations

from enum import StrEnum


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
    "profile:write",
    "api_keys:write",
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


def allows(role: str, permission: str) -> bool:
    try:
        return permission in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def lower_role(a: str, b: str) -> str:
    return a if RANK[Role(a)] <= RANK[Role(b)] else b


def at_most(role: str, ceiling: str) -> bool:
    return RANK[Role(role)] <= RANK[Role(ceiling)]
