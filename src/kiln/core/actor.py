"""The identity on whose behalf something is done (a user, an API key, or a system component)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kiln.core.permissions import Permission


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "user", "api_key", "system", "anonymous"
    id: str
    name: str
    # The global role (for an API key: the key's role), and the user behind a key.
    role: str = "viewer"
    user_id: str | None = None
    # An API key is confined to one project, unless it is an admin's global key (no project).
    project_id: str | None = None
    session_id: str | None = None
    # What this actor may do, resolved by auth once per request (``auth.permissions.with_permissions``):
    # the role's grants less what this kind of credential may not use, and why those are withheld.
    permissions: frozenset[Permission] = frozenset()
    withheld: Mapping[Permission, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def label(self) -> str:
        return self.name or self.id

    def label_within(self, length: int) -> str:
        """The label cut, visibly, to a column's ``length``: a long "<email> (key <name>)" must never
        make the action it records fail."""
        label = self.label
        return label if len(label) <= length else label[: length - 1] + "…"

    @property
    def project_scoped(self) -> bool:
        """An API key confined to one project (every key except an admin's global one)."""
        return self.kind == "api_key" and self.project_id is not None

    @property
    def is_admin(self) -> bool:
        """A global administrator: an admin user, the system or an admin's global key; never a project key."""
        return self.role == "admin" and not self.project_scoped

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    def refusal(self, permission: Permission) -> str | None:
        """Why this actor may not use ``permission``, or ``None`` when it may."""
        if permission in self.permissions:
            return None
        return self.withheld.get(permission) or f"your role ({self.role}) does not allow {permission}"


SYSTEM = Actor(kind="system", id="system", name="system", role="admin", permissions=frozenset(Permission))
ANONYMOUS = Actor(kind="anonymous", id="anonymous", name="anonymous", role="none")
