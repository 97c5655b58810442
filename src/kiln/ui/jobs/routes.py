"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.jobs import job_page, jobs_page

router = APIRouter()
router.include_router(jobs_page.router)
router.include_router(job_page.router)
