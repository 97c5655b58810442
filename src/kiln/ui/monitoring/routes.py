"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.monitoring import (
    deployment_page,
    drift_list_page,
    drift_report_page,
    drift_settings_page,
    incidents_page,
    overview_page,
    rules_page,
    settings_page,
)

router = APIRouter()
router.include_router(overview_page.router)
router.include_router(deployment_page.router)
router.include_router(drift_list_page.router)
router.include_router(drift_report_page.router)
router.include_router(drift_settings_page.router)
router.include_router(rules_page.router)
router.include_router(incidents_page.router)
router.include_router(settings_page.router)
