"""The header's navigation. Each product area adds its entry here when its pages exist."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    # Pages name the section they belong to, which marks the entry as current.
    section: str
    # Shown only to users whose role allows this (None: every logged-in user).
    permission: str | None = None


# Models, Deployments and Monitoring join this list when their pages land.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Experiments", "/experiments", "experiments"),
    NavItem("Projects", "/projects", "projects", "projects:read"),
    NavItem("Admin", "/admin/users", "admin", "users:admin"),
    NavItem("Audit", "/audit", "audit", "audit:read"),
)

# The account menu under the user's email in the header.
ACCOUNT_ITEMS: tuple[NavItem, ...] = (
    NavItem("Profile", "/profile", "profile"),
    NavItem("API keys", "/api-keys", "api-keys", "api_keys:write"),
)
