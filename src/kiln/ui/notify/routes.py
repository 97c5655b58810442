"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.notify import inbox_page, settings_form

router = APIRouter()
router.include_router(inbox_page.router)
router.include_router(settings_form.router)
