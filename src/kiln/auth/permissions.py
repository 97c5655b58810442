"""Roles and what each may do. One table; routes name a permission, services check project roles.

The permission names are ``kiln.core.permissions.Permission``; the grants are here. Next to the
table: which permissions reach beyond one project (refused to project-scoped API keys) and which act
on the account itself (refused to every API key). ``with_permissions`` applies all three once per
request, into ``Actor.permissions``, which ``kiln.core.deps.require`` checks.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from kiln.core.actor import Actor
from kiln.core.permissions import Permission as P


class Role(StrEnum):
    viewer = "viewer"
    data_scientist = "data_scientist"
    ml_engineer = "ml_engineer"
    admin = "admin"
    # Read-only, for compliance officers (off the ladder below: it also reads the audit trail).
    auditor = "auditor"


# The ladder: each role holds everything the one below holds. The auditor ranks lowest because it
# changes nothing: a lower-of-two role that meets it is the auditor, and any member may give a key
# the auditor role, since in a project an auditor holds nothing a viewer does not (its one extra,
# reading the whole audit trail, reaches beyond one project and so is withheld from project keys).
RANK = {Role.auditor: -1, Role.viewer: 0, Role.data_scientist: 1, Role.ml_engineer: 2, Role.admin: 3}

# The end user: reads everything in their projects, requests predictions, keeps their own account.
_VIEWER = {
    P.profile_read,
    P.profile_write,
    P.api_keys_write,
    P.api_keys_revoke,
    P.projects_read,
    P.experiments_read,
    P.runs_read,
    P.artifacts_read,
    P.lineage_read,
    P.models_read,
    P.deployments_read,
    P.predictions_create,
    P.datasets_read,
    P.pipelines_read,
    P.jobs_read,
    P.schedules_read,
    P.monitors_read,
    P.alerts_read,
    P.hpo_read,
}
# The compliance officer: reads everything in their projects (models, approvals, stage history,
# lineage) and the audit trail; changes nothing (no predictions either: they are recorded).
_AUDITOR = (_VIEWER - {P.predictions_create}) | {P.audit_read}
# Builds models: tracks runs, versions data (and reviews its quarantine), runs pipelines and studies,
# registers models and promotes them as far as staging; cancels and retries the jobs they started.
_DATA_SCIENTIST = _VIEWER | {
    P.experiments_write,
    P.runs_write,
    P.artifacts_write,
    P.datasets_write,
    P.quarantine_review,
    P.models_write,
    P.models_promote_staging,
    P.pipelines_run,
    P.jobs_write,
    P.hpo_write,
}
# Runs production: defines pipelines and schedules, deploys, asks for and approves production (never
# their own request: four-eyes), watches and alerts, and may cancel or retry anyone's jobs in their projects.
_ML_ENGINEER = _DATA_SCIENTIST | {
    P.pipelines_write,
    P.schedules_write,
    P.deployments_write,
    P.models_promote_production,
    P.models_approve,
    P.jobs_admin,
    P.monitors_write,
    P.alerts_write,
}
_ADMIN = _ML_ENGINEER | {
    P.users_admin,
    P.projects_create,
    P.projects_admin,
    P.audit_read,
}

PERMISSIONS: dict[Role, frozenset[P]] = {
    Role.auditor: frozenset(_AUDITOR),
    Role.viewer: frozenset(_VIEWER),
    Role.data_scientist: frozenset(_DATA_SCIENTIST),
    Role.ml_engineer: frozenset(_ML_ENGINEER),
    Role.admin: frozenset(_ADMIN),
}
ALL_PERMISSIONS: frozenset[P] = frozenset().union(*PERMISSIONS.values())

# Beyond any one project: every user, new projects, the whole audit trail. A user with the role has
# them; an API key only when it is a global key (no project), which only an admin creates on purpose.
# (Managing another person's keys is the same power; ``api_keys.revoke_api_key`` checks it.)
GLOBAL_PERMISSIONS = frozenset({P.users_admin, P.projects_create, P.audit_read})
# The account itself (profile, password, creating and listing keys): for a person logged in, never a
# key, so a leaked key cannot lock its owner out or mint itself successors. A key may still read
# ``/me`` (``profile:read``) and revoke itself (``api_keys:revoke``).
ACCOUNT_PERMISSIONS = frozenset({P.profile_write, P.api_keys_write})


def granted(role: str) -> frozenset[P]:
    try:
        return PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def allows(role: str, permission: P) -> bool:
    return permission in granted(role)


def with_permissions(actor: Actor) -> Actor:
    """``actor`` with what it may do: its role's grants, less what its kind of credential may not use.

    Withheld permissions keep the reason, so a refusal says what to do instead (log in, use a global key).
    """
    withheld: dict[P, str] = {}
    role_grants = granted(actor.role)
    if actor.kind == "api_key":
        for permission in role_grants & ACCOUNT_PERMISSIONS:
            withheld[permission] = (
                f"{permission} needs a login session; an API key cannot change its owner's account"
            )
    if actor.project_scoped:
        for permission in (role_grants & GLOBAL_PERMISSIONS) - withheld.keys():
            withheld[permission] = (
                f"{permission} reaches beyond one project; a project's API key cannot use it"
            )
    return replace(actor, permissions=role_grants - withheld.keys(), withheld=withheld)


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
