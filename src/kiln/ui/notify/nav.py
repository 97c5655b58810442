"""The header entries of this domain's pages (listed in ``ui/navigation.py``). The bell next to the
account menu is in ``base.html`` (its count: ``bell.py``)."""

from __future__ import annotations

from kiln.ui.nav_item import NavItem

NAV: tuple[NavItem, ...] = ()
# Every logged-in user has an inbox.
ACCOUNT: tuple[NavItem, ...] = (NavItem("Notifications", "/notifications", "notifications"),)
