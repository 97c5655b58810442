"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.auth import account_pages, admin_pages, auth_pages, projects_page

router = APIRouter()
router.include_router(auth_pages.router)
router.include_router(account_pages.router)
router.include_router(admin_pages.router)
router.include_router(projects_page.router)
