"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.serving import deployment_page, deployments_page, try_page

router = APIRouter()
router.include_router(deployments_page.router)
router.include_router(deployment_page.router)
router.include_router(try_page.router)
