"""Mounts the web UI on the app: static files, Plotly's bundle and the page routes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from kiln.ui import api_docs, vendor
from kiln.ui.audit import routes as audit_pages
from kiln.ui.auth import routes as auth_pages
from kiln.ui.data import routes as data_pages
from kiln.ui.jobs import routes as jobs_pages
from kiln.ui.lineage import routes as lineage_pages
from kiln.ui.monitoring import routes as monitoring_pages
from kiln.ui.navigation import ACCOUNT_ITEMS, NAV_ITEMS
from kiln.ui.notify import bell
from kiln.ui.notify import routes as notify_pages
from kiln.ui.pipelines import routes as pipeline_pages
from kiln.ui.registry import routes as registry_pages
from kiln.ui.serving import routes as serving_pages
from kiln.ui.templating import STATIC_DIR, install_header_parts, install_navigation
from kiln.ui.tracking import routes as tracking_pages


def mount_ui(app: FastAPI) -> None:
    install_navigation(NAV_ITEMS, ACCOUNT_ITEMS)
    install_header_parts(unread_notifications=bell.unread_notifications)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/experiments", status_code=307)

    # Before the /static mount, which would otherwise answer for /static/vendor/... with a 404.
    app.include_router(vendor.router)
    app.include_router(api_docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # One line per domain: its pages live in ui/<domain>/, its templates in templates/<domain>/.
    app.include_router(auth_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(notify_pages.router)
    app.include_router(tracking_pages.router)
    app.include_router(lineage_pages.router)
    app.include_router(registry_pages.router)
    app.include_router(serving_pages.router)
    app.include_router(data_pages.router)
    app.include_router(jobs_pages.router)
    app.include_router(monitoring_pages.router)
    app.include_router(pipeline_pages.router)
