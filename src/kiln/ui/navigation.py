"""The header's navigation. Each product area adds its entry here when its pages exist."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    # Pages name the section they belong to, which marks the entry as current.
    section: str


# Models, Deployments and Monitoring join this list when their pages land.
NAV_ITEMS: tuple[NavItem, ...] = (NavItem("Experiments", "/experiments", "experiments"),)
