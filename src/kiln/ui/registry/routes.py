"""Every page router of this domain, included by ``ui/router.py`` with one line."""

from __future__ import annotations

from fastapi import APIRouter

from kiln.ui.registry import approvals_page, compare_page, lifecycle_forms, model_pages, upload_page

router = APIRouter()
# The upload form first: its /models/upload path must not read as a model called "upload".
router.include_router(upload_page.router)
router.include_router(compare_page.router)
router.include_router(model_pages.router)
router.include_router(lifecycle_forms.router)
router.include_router(approvals_page.router)
