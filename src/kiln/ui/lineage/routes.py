"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.lineage import lineage_page

router = APIRouter()
router.include_router(lineage_page.router)
