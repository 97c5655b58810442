"""The identity on whose behalf something is done (a user, an API key, or a system component)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "user", "api_key", "system", "anonymous"
    id: str
    name: str
    # The global role (for an API key: the key's role), and the user behind a key.
    role: str = "viewer"
    user_id: str | None = None
    # An API key is confined to one project.
    project_id: str | None = None
    session_id: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


SYSTEM = Actor(kind="system", id="system", name="system", role="admin")
ANONYMOUS = Actor(kind="anonymous", id="anonymous", name="anonymous", role="none")
