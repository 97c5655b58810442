"""The header entries of this domain's pages (listed in ``ui/navigation.py``)."""

from __future__ import annotations

from kiln.core.permissions import Permission
from kiln.ui.nav_item import NavItem

NAV: tuple[NavItem, ...] = (
    NavItem("Monitoring", "/monitoring", "monitoring", Permission.monitors_read),
    NavItem("Alerts", "/alerts/incidents", "alerts", Permission.alerts_read),
)
# Every logged-in user chooses what reaches them; channels show to those who may read alerts.
ACCOUNT: tuple[NavItem, ...] = (
    NavItem("Notification settings", "/settings/notifications", "notification-settings"),
)
