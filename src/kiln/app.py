"""Builds the FastAPI application: database, artifact store, routers, UI, middleware."""

from __future__ import annotations

import os
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text

from kiln import __version__
from kiln.audit.chain import bind_audit_key
from kiln.audit.rekey import rekey_legacy_records
from kiln.audit.router import router as audit_router
from kiln.auth.admin_router import router as admin_router
from kiln.auth.config import AuthConfig
from kiln.auth.ratelimit import RateLimits
from kiln.auth.router import router as auth_router
from kiln.auth.setup import announce_setup_token
from kiln.core.body_limits import UPLOAD_ROUTES, BodyLimits, check_upload_routes
from kiln.core.db import Database
from kiln.core.http import HttpMetrics, RequestContextMiddleware, error_response, install_error_handlers
from kiln.core.logging import configure_logging
from kiln.core.migrate import upgrade_database
from kiln.core.security import resolve_audit_key, resolve_secret_key
from kiln.core.security_headers import SecurityHeadersMiddleware
from kiln.core.settings import Settings, get_settings
from kiln.notify.email import Mailer, SmtpSettings
from kiln.storage.store import ArtifactStore
from kiln.tracking.router import router as tracking_router

log = structlog.get_logger("kiln.app")


def storage_options(settings: Settings) -> dict[str, Any]:
    if settings.s3_endpoint_url and settings.resolved_artifact_root.startswith("s3://"):
        return {"client_kwargs": {"endpoint_url": settings.s3_endpoint_url}}
    return {}


def auth_config(settings: Settings, *, embedded: bool) -> AuthConfig:
    from datetime import timedelta

    return AuthConfig(
        secret_key=resolve_secret_key(settings.secret_key, settings.home, embedded=embedded),
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        session_ttl=timedelta(days=settings.session_days),
        registration=settings.registration,
        public_url=settings.public_url,
        api_key_max_days=settings.api_key_max_days,
    )


def smtp_settings(settings: Settings) -> SmtpSettings:
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        sender=settings.smtp_sender,
        starttls=settings.smtp_starttls,
        use_ssl=settings.smtp_ssl,
    )


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    # Everything the server writes (the SQLite database and its journal, artifacts and their
    # folders, key files) is for its owner only. Set here rather than in `kiln server`: every way of
    # serving Kiln (`kiln server`, `uvicorn --factory`, gunicorn workers) builds the app with this.
    os.umask(0o077)
    settings.ensure_home()
    configure_logging(settings.log_level, json=None if settings.log_json == "auto" else settings.log_json)
    db = Database(settings.resolved_database_url)
    if migrate:
        upgrade_database(db.engine)
    bind_audit_key(db, resolve_audit_key(settings.audit_key, settings.home, embedded=db.is_sqlite))
    rekey_legacy_records(db)
    store = ArtifactStore(settings.resolved_artifact_root, storage_options(settings))

    app = FastAPI(
        title="Kiln",
        version=__version__,
        description="Kiln: data, pipelines, experiment tracking, model registry, serving and monitoring.",
        # /docs is served by kiln.ui.api_docs from local files (FastAPI's own page loads a CDN).
        # No ReDoc: its styles are injected inline, which the pages' content security policy refuses.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db
    app.state.store = store
    app.state.auth_config = auth_config(settings, embedded=db.is_sqlite)
    # Shown in the log only (kept here too, for in-process tests and tools).
    app.state.setup_token = announce_setup_token(db, app.state.auth_config)
    app.state.mailer = Mailer(smtp_settings(settings))
    app.state.rate_limits = RateLimits(
        storage_uri=settings.rate_limit_storage, api=settings.rate_limit, login=settings.login_rate_limit
    )
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    install_error_handlers(app)
    limits = BodyLimits(
        max_json_bytes=settings.max_json_bytes,
        max_form_bytes=settings.max_form_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        uploads=UPLOAD_ROUTES,
    )
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry), limits=limits)
    # Added last, so outermost: its headers are on every response, 500s and 413s included.
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(audit_router)
    app.include_router(tracking_router)
    _add_operational_routes(app)
    _add_ui(app)
    check_upload_routes(app)
    log.info(
        "app.created",
        database=db.engine.url.render_as_string(hide_password=True),
        artifacts=store.root_url,
        pid=os.getpid(),
    )
    return app


def _add_ui(app: FastAPI) -> None:
    from kiln.ui.router import mount_ui

    mount_ui(app)


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], include_in_schema=True)
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["operations"], response_model=None)
    def readyz(request: Request) -> JSONResponse | dict[str, str]:
        """The database answers and the artifact store is reachable."""
        db: Database = request.app.state.db
        store: ArtifactStore = request.app.state.store
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            store.fs.exists(store.root)
        except Exception as exc:  # readiness reports any dependency failure rather than raising
            log.warning("app.not_ready", error=str(exc))
            return error_response(503, "not_ready", f"not ready: {type(exc).__name__}")
        return {"status": "ready"}

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
