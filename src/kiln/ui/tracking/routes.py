"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.tracking import compare_page, experiments, run_page

router = APIRouter()
router.include_router(experiments.router)
router.include_router(run_page.router)
router.include_router(compare_page.router)
