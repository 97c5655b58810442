"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.pipelines import pipeline_pages, run_page

router = APIRouter()
router.include_router(pipeline_pages.router)
router.include_router(run_page.router)
