"""The identity on whose behalf something is done (a user, an API key, or a system component)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "user", "api_key", "system", "anonymous"
    id: str
    name: str

    @property
    def label(self) -> str:
        return self.name or self.id


SYSTEM = Actor(kind="system", id="system", name="system")
ANONYMOUS = Actor(kind="anonymous", id="anonymous", name="anonymous")
