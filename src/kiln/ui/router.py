"""Mounts the web UI on the app: static files, Plotly's bundle and the page routes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from kiln.ui import (
    account_pages,
    admin_pages,
    api_docs,
    audit_page,
    auth_pages,
    compare_page,
    experiments,
    projects_page,
    run_page,
    vendor,
)
from kiln.ui.templating import STATIC_DIR


def mount_ui(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/experiments", status_code=307)

    # Before the /static mount, which would otherwise answer for /static/vendor/... with a 404.
    app.include_router(vendor.router)
    app.include_router(api_docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth_pages.router)
    app.include_router(account_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(projects_page.router)
    app.include_router(audit_page.router)
    app.include_router(experiments.router)
    app.include_router(run_page.router)
    app.include_router(compare_page.router)
