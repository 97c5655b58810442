"""The header entries of this domain's pages (listed in ``ui/navigation.py``)."""

from __future__ import annotations

from kiln.core.permissions import Permission
from kiln.ui.nav_item import NavItem

NAV: tuple[NavItem, ...] = (NavItem("Pipelines", "/pipelines", "pipelines", Permission.pipelines_read),)
