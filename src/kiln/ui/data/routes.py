"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.data import dataset_page, datasets_page, diff_page, quarantine_page, version_page

router = APIRouter()
router.include_router(datasets_page.router)
router.include_router(dataset_page.router)
router.include_router(version_page.router)
router.include_router(diff_page.router)
router.include_router(quarantine_page.router)
