"""The header's navigation: one line per domain, each domain's entries declared in ``ui/<domain>/nav.py``."""

from __future__ import annotations

from kiln.core.permissions import Permission
from kiln.ui.audit import nav as audit_nav
from kiln.ui.auth import nav as auth_nav
from kiln.ui.data import nav as data_nav
from kiln.ui.jobs import nav as jobs_nav
from kiln.ui.monitoring import nav as monitoring_nav
from kiln.ui.nav_item import NavItem
from kiln.ui.notify import nav as notify_nav
from kiln.ui.pipelines import nav as pipelines_nav
from kiln.ui.registry import nav as registry_nav
from kiln.ui.serving import nav as serving_nav
from kiln.ui.tracking import nav as tracking_nav

__all__ = ["ACCOUNT_ITEMS", "NAV_ITEMS", "NavItem"]

# Pipelines joins in DESIGN's order as its pages land.
NAV_ITEMS: tuple[NavItem, ...] = (
    *tracking_nav.NAV,
    *registry_nav.NAV,
    *serving_nav.NAV,
    *data_nav.NAV,
    *monitoring_nav.NAV,
    *pipelines_nav.NAV,
    *jobs_nav.NAV,
    *auth_nav.NAV,
    *audit_nav.NAV,
    *notify_nav.NAV,
)

# The account menu under the user's email in the header.
ACCOUNT_ITEMS: tuple[NavItem, ...] = (
    NavItem("Profile", "/profile", "profile"),
    NavItem("API keys", "/api-keys", "api-keys", Permission.api_keys_write),
    *notify_nav.ACCOUNT,
    *monitoring_nav.ACCOUNT,
)
