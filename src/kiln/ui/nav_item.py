"""One entry of the header's navigation."""

from __future__ import annotations

from dataclasses import dataclass

from kiln.core.permissions import Permission


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    # Pages name the section they belong to, which marks the entry as current.
    section: str
    # Shown only to users whose role allows this (None: every logged-in user).
    permission: Permission | None = None
