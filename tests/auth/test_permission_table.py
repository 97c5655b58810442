"""The permission names (``kiln.core.permissions``) and auth's grants agree, and a misspelt one fails loudly.

Review finding P9: permissions were free strings, so ``require("model:write")`` was simply never
allowed, a silent 403 that only the authorization matrix might notice.
"""

from __future__ import annotations

import itertools

import pytest

from kiln.auth.permissions import (
    ACCOUNT_PERMISSIONS,
    GLOBAL_PERMISSIONS,
    PERMISSIONS,
    RANK,
    Role,
    with_permissions,
)
from kiln.core.actor import Actor
from kiln.core.deps import require
from kiln.core.permissions import Permission
from kiln.ui.page_access import form_require, page_require


class TestTheTable:
    def test_every_permission_is_granted_at_least_to_admins(self) -> None:
        ungranted = sorted(set(Permission) - PERMISSIONS[Role.admin])
        assert not ungranted, f"permissions no role holds (grant them in auth/permissions.py): {ungranted}"

    def test_grants_name_only_permission_members(self) -> None:
        named = [*GLOBAL_PERMISSIONS, *ACCOUNT_PERMISSIONS]
        named += [permission for grants in PERMISSIONS.values() for permission in grants]
        loose = sorted(str(item) for item in named if not isinstance(item, Permission))
        assert not loose, f"grants must name Permission members: {loose}"

    def test_every_role_has_a_row_and_a_higher_role_holds_everything_a_lower_one_does(self) -> None:
        assert set(PERMISSIONS) == set(Role)
        ladder = sorted(set(Role) - {Role.auditor}, key=RANK.__getitem__)
        for lower, higher in itertools.pairwise(ladder):
            assert PERMISSIONS[lower] <= PERMISSIONS[higher], (lower, higher)

    def test_the_auditor_changes_nothing_and_inside_a_project_holds_nothing_a_viewer_lacks(self) -> None:
        auditor = PERMISSIONS[Role.auditor]
        writes = {p for p in auditor if not p.value.endswith(":read")} - {
            # their own account only
            Permission.profile_write,
            Permission.api_keys_write,
            Permission.api_keys_revoke,
        }
        assert not writes
        assert Permission.predictions_create not in auditor
        # What a project key with the auditor role keeps: a viewer's reads, no more.
        assert auditor - GLOBAL_PERMISSIONS <= PERMISSIONS[Role.viewer]
        assert {Permission.audit_read, Permission.models_read} <= auditor
        assert RANK[Role.auditor] < RANK[Role.viewer]

    @pytest.mark.parametrize(
        ("role", "permission"),
        [
            (Role.ml_engineer, Permission.models_promote_production),
            (Role.ml_engineer, Permission.models_approve),
            (Role.admin, Permission.models_approve),
            (Role.data_scientist, Permission.quarantine_review),
            (Role.data_scientist, Permission.pipelines_run),
            (Role.ml_engineer, Permission.jobs_admin),
            (Role.ml_engineer, Permission.schedules_write),
            (Role.viewer, Permission.schedules_read),
            (Role.viewer, Permission.datasets_read),
            (Role.viewer, Permission.predictions_create),
        ],
    )
    def test_the_coming_domains_are_decided(self, role: Role, permission: Permission) -> None:
        assert permission in PERMISSIONS[role]

    @pytest.mark.parametrize(
        ("role", "permission"),
        [
            (Role.data_scientist, Permission.models_promote_production),
            (Role.data_scientist, Permission.models_approve),
            (Role.data_scientist, Permission.schedules_write),
            (Role.viewer, Permission.models_approve),
            (Role.auditor, Permission.models_write),
            (Role.data_scientist, Permission.deployments_write),
            (Role.viewer, Permission.quarantine_review),
            (Role.ml_engineer, Permission.users_admin),
        ],
    )
    def test_and_withheld_where_they_should_be(self, role: Role, permission: Permission) -> None:
        assert permission not in PERMISSIONS[role]


class TestAMisspeltPermissionFailsAtImport:
    def test_the_enum_has_no_such_member(self) -> None:
        with pytest.raises(ValueError, match="model:write"):
            Permission("model:write")

    @pytest.mark.parametrize("declare", [require, page_require, form_require])
    def test_a_route_or_page_cannot_be_declared_with_a_string(self, declare: object) -> None:
        with pytest.raises(TypeError, match="Permission"):
            declare("models:write")  # type: ignore[operator]


class TestResolvedPermissions:
    def test_a_login_has_its_roles_grants(self) -> None:
        user = with_permissions(Actor(kind="user", id="u", name="u", role="ml_engineer", user_id="u"))
        assert user.permissions == PERMISSIONS[Role.ml_engineer]
        assert user.refusal(Permission.users_admin) == "your role (ml_engineer) does not allow users:admin"

    def test_a_project_key_loses_global_and_account_permissions_and_says_why(self) -> None:
        key = with_permissions(Actor(kind="api_key", id="k", name="k", role="admin", project_id="p"))
        assert not key.permissions & (GLOBAL_PERMISSIONS | ACCOUNT_PERMISSIONS)
        assert key.may(Permission.profile_read)
        assert key.may(Permission.api_keys_revoke)
        assert "login session" in (key.refusal(Permission.api_keys_write) or "")
        assert "beyond one project" in (key.refusal(Permission.audit_read) or "")

    def test_a_global_key_keeps_global_permissions_but_not_the_account(self) -> None:
        key = with_permissions(Actor(kind="api_key", id="k", name="k", role="admin"))
        assert key.may(Permission.audit_read)
        assert not key.may(Permission.profile_write)

    def test_an_unknown_role_may_do_nothing(self) -> None:
        assert with_permissions(Actor(kind="user", id="u", name="u", role="none")).permissions == frozenset()
