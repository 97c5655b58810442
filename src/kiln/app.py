"""Builds the FastAPI application: database, artifact store, routers, UI, middleware."""

from __future__ import annotations

import gc
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import Field
from sqlalchemy import MetaData, text
from sqlalchemy.exc import SQLAlchemyError

from kiln import __version__
from kiln.audit import service as audit_service
from kiln.audit.chain import bind_audit_key
from kiln.audit.rekey import rekey_legacy_records
from kiln.auth.config import AuthConfig
from kiln.auth.credential_cache import CredentialCache
from kiln.auth.deps import AuthState, BearerAuthenticator
from kiln.auth.projects import permissions_in_project, visible_project_ids
from kiln.auth.ratelimit import RateLimits
from kiln.auth.settings import AuthSettings
from kiln.core.audit_trail import AuditTrail
from kiln.core.body_limits import UPLOAD_ROUTES, BodyLimits, check_upload_routes
from kiln.core.db import Database
from kiln.core.deps import Authenticator, CoreState, DatabaseDep, ProjectVisibility
from kiln.core.direct_routes import DirectRoutes
from kiln.core.errors import KilnError
from kiln.core.http import (
    HttpMetrics,
    RequestContextMiddleware,
    error_response,
    install_error_handlers,
    kiln_error_answer,
)
from kiln.core.logging import configure_logging
from kiln.core.migrate import upgrade_database
from kiln.core.project_permissions import ProjectPermissions
from kiln.core.security import resolve_audit_key, resolve_secret_key
from kiln.core.settings import Settings
from kiln.jobs.settings import WorkerSettings
from kiln.notify.deps import NotifyState
from kiln.notify.email import Mailer
from kiln.notify.settings import SmtpSettings
from kiln.pipelines.deps import PipelinesState
from kiln.pipelines.settings import PipelineSettings
from kiln.registry.deps import RegistryState
from kiln.registry.flavors.skops_trust import defer_estimator_scan
from kiln.registry.settings import ModelRegistrySettings
from kiln.serving.cache_settings import ModelCacheSettings
from kiln.serving.deployment_follow import RegistryFollower
from kiln.serving.deployments_router import read_router as deployments_read_router
from kiln.serving.deps import ModelCacheState, ServingState
from kiln.serving.inference_router import router as inference_router
from kiln.serving.model_cache import ModelCache
from kiln.serving.predict_router import DIRECT_ROUTES
from kiln.serving.predict_router import router as predict_router
from kiln.serving.prediction_log import PredictionLogger
from kiln.serving.router import router as predictions_router
from kiln.serving.settings import PredictionLogSettings
from kiln.storage.deps import StorageState, StoreDep
from kiln.storage.settings import StorageSettings
from kiln.storage.store import ArtifactStore

if TYPE_CHECKING:
    # Only ``kiln server`` and ``kiln worker`` build these: they are imported where they are built,
    # so a serving process never loads the worker, the job kinds or the data, monitoring and
    # pipeline tasks behind them (start-up time and idle memory of ``kiln serve``).
    from kiln.jobs.worker import Worker
    from kiln.pipelines.tasks import TriggerSubscription

log = structlog.get_logger("kiln.app")

# "all": kiln server (everything); "serving": kiln serve (predictions, their log, deployments' reads).
AppRole = Literal["all", "serving"]


class KilnSettings(Settings):
    """Every settings section: core's, plus one line per domain (each reads its own ``KILN_*`` names)."""

    storage: StorageSettings = Field(default_factory=StorageSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    registry: ModelRegistrySettings = Field(default_factory=ModelRegistrySettings)
    prediction_log: PredictionLogSettings = Field(default_factory=PredictionLogSettings)
    serving: ModelCacheSettings = Field(default_factory=ModelCacheSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    pipelines: PipelineSettings = Field(default_factory=PipelineSettings)


@dataclass(frozen=True, slots=True)
class KilnState:
    """The app's shared resources, built once in ``create_app``; each domain's ``deps.py`` reads its part.

    Start/stop resources (workers, caches, flushers) are added here and to ``_lifespan``.
    """

    settings: KilnSettings
    db: Database
    store: ArtifactStore
    auth_config: AuthConfig
    rate_limits: RateLimits
    # Every authenticated request's credentials from memory (kiln.auth.credential_cache).
    credential_cache: CredentialCache
    mailer: Mailer
    # Started and drained by the lifespan; the predict path appends to it (kiln.serving.deps).
    prediction_logger: PredictionLogger
    # Deployment name -> loaded model, refreshed by its own thread (kiln.serving.model_cache).
    model_cache: ModelCache
    # Re-resolves deployments that follow a stage or alias when the registry moves it.
    registry_follower: RegistryFollower
    # A new dataset version starts the pipelines that have a trigger on it (kiln.pipelines.triggers);
    # None in a serving process, where no dataset version arrives.
    pipeline_triggers: TriggerSubscription | None
    metrics_registry: CollectorRegistry
    authenticator: Authenticator
    project_visibility: ProjectVisibility
    # For domains below auth and audit (jobs): a caller's rights in a project, and the audit trail.
    project_permissions: ProjectPermissions
    audit_trail: AuditTrail
    # The in-process job worker of `kiln server` (None: KILN_WORKER=0, or a serving process).
    job_worker: Worker | None
    # Shown in the log only (kept here too, for in-process tests and tools).
    setup_token: str | None


def _state_parts(
    state: KilnState,
) -> tuple[
    CoreState,
    StorageState,
    AuthState,
    NotifyState,
    RegistryState,
    ServingState,
    ModelCacheState,
    PipelinesState,
]:
    """Never called: mypy checks here that ``KilnState`` is everything each domain's deps read."""
    return state, state, state, state, state, state, state, state


def kiln_state(app: FastAPI) -> KilnState:
    """The typed app state, for code that holds the app itself (tests, tools)."""
    state: KilnState = app.state.kiln
    return state


GIL_SWITCH_INTERVAL_S = 0.0005


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # What exists once the app is built (modules, ORM mappings, routes, compiled statements) lives as
    # long as the process: freeze it out of the collector, so a full collection during a large batch
    # does not walk it again. Profiled: this took 10,000-point batches from 70-260 ms to 60-90 ms.
    gc.collect()
    gc.freeze()
    # The event loop answers a one-row prediction in about a millisecond. At CPython's default switch
    # interval (5 ms) a background thread holding the GIL (the prediction log's flusher building its
    # rows, the model and credential caches' polls) keeps a request that arrives meanwhile waiting up
    # to 5 ms: that was the p99 at one connection. The threads only ask for the GIL a few times a
    # second, so a shorter interval costs next to nothing.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, GIL_SWITCH_INTERVAL_S))
    state = kiln_state(app)
    state.prediction_logger.start()
    state.registry_follower.subscribe()
    if state.pipeline_triggers is not None:
        state.pipeline_triggers.subscribe()
    state.credential_cache.start()
    state.model_cache.start()
    if state.job_worker is not None:
        start_recurring_jobs(state.db)
        state.job_worker.start()
    yield
    if state.job_worker is not None:
        state.job_worker.stop()  # running jobs finish, or go back to the queue
        from kiln.pipelines.tasks import stop_step_processes  # a serving process never loads it

        stop_step_processes()
    state.model_cache.stop()
    state.credential_cache.stop()
    state.registry_follower.unsubscribe()
    if state.pipeline_triggers is not None:
        state.pipeline_triggers.unsubscribe()
    # Queued predictions are written before the database closes: a clean shutdown loses none.
    state.prediction_logger.close()
    state.mailer.close()  # queued mail goes out first
    state.db.dispose()
    sys.setswitchinterval(switch_interval)


def all_models() -> MetaData:
    """Every domain's tables, for creating an empty database from them (imported only then)."""
    from kiln.models_registry import metadata

    return metadata


def create_app(
    settings: KilnSettings | None = None, *, migrate: bool = True, role: AppRole = "all"
) -> FastAPI:
    """The app of ``kiln server`` (``role="all"``), or of ``kiln serve`` (``"serving"``): the same
    state, database and store, but only health, the predict and prediction-log routes and the
    deployments' reads; no UI, no sign-up, no control-plane writes."""
    serving_only = role == "serving"
    settings = settings or KilnSettings()
    # Everything the server writes (the SQLite database and its journal, artifacts and their
    # folders, key files) is for its owner only. Set here rather than in `kiln server`: every way of
    # serving Kiln (`kiln server`, `uvicorn --factory`, gunicorn workers) builds the app with this.
    os.umask(0o077)
    # Models load without skops' scan of every scikit-learn module (kiln.registry.flavors.skops_trust).
    defer_estimator_scan()
    settings.ensure_home()
    configure_logging(settings.log_level, json=None if settings.log_json == "auto" else settings.log_json)
    db = Database(settings.resolved_database_url)
    if migrate:
        upgrade_database(db.engine, models=all_models)
    bind_audit_key(db, resolve_audit_key(settings.audit_key, settings.home, embedded=db.is_sqlite))
    rekey_legacy_records(db)
    store = artifact_store(settings)
    if not serving_only:  # a serving process enqueues and runs no job
        register_job_kinds(store, settings)
        bind_job_store(db, store)
    secret_key = resolve_secret_key(settings.secret_key, settings.home, embedded=db.is_sqlite)
    config = AuthConfig.from_settings(settings.auth, secret_key=secret_key)
    rate_limits = RateLimits(
        storage_uri=settings.auth.rate_limit_storage,
        api=settings.auth.rate_limit,
        login=settings.auth.login_rate_limit,
    )
    # Every authenticated request's credentials from memory, invalidated by auth changes.
    credential_cache = CredentialCache(
        db,
        config,
        rate_limits,
        max_entries=settings.auth.credential_cache_size,
        poll_seconds=settings.auth.credential_poll_seconds,
    )
    registry = CollectorRegistry()

    app = FastAPI(
        title="Kiln",
        version=__version__,
        description="Kiln: data, pipelines, experiment tracking, model registry, serving and monitoring.",
        # /docs is served by kiln.ui.api_docs from local files (FastAPI's own page loads a CDN).
        # No ReDoc: its styles are injected inline, which the pages' content security policy refuses.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    app.state.kiln = KilnState(
        settings=settings,
        db=db,
        store=store,
        auth_config=config,
        rate_limits=rate_limits,
        credential_cache=credential_cache,
        mailer=Mailer(settings.smtp, public_url=config.public_url),
        prediction_logger=PredictionLogger(db, settings.prediction_log, registry=registry),
        model_cache=_model_cache(settings, db, store),
        registry_follower=RegistryFollower(db),
        pipeline_triggers=None if serving_only else _pipeline_triggers(db),
        metrics_registry=registry,
        authenticator=BearerAuthenticator(credential_cache),
        project_visibility=visible_project_ids,
        project_permissions=permissions_in_project,
        audit_trail=audit_service.record,
        job_worker=None if serving_only or not settings.worker.enabled else _job_worker(db, settings),
        # A serving process offers no sign-up, so it announces no setup token.
        setup_token=None if serving_only else _announce_setup_token(db, config),
    )
    install_error_handlers(app)
    limits = BodyLimits(
        max_json_bytes=settings.http.max_json_bytes,
        max_form_bytes=settings.http.max_form_bytes,
        max_upload_bytes=settings.http.max_upload_bytes,
        uploads=() if serving_only else UPLOAD_ROUTES,
    )
    direct = DirectRoutes(DIRECT_ROUTES, error_types=(KilnError,))
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry), limits=limits, direct=direct)
    direct.bind(app, kiln_error_answer)
    if not serving_only:
        _expose_drift_scores(db, registry)
    if not serving_only:
        _include_hot_routes(app)
    _include_serving_routers(app)
    _add_operational_routes(app)
    if not serving_only:
        _include_control_plane(app)
    log.info(
        "app.created",
        database=db.engine.url.render_as_string(hide_password=True),
        artifacts=store.root_url,
        pid=os.getpid(),
    )
    return app


def _expose_drift_scores(db: Database, registry: CollectorRegistry) -> None:
    """The latest drift report's scores per deployment at /metrics, primed from the stored reports."""
    from kiln.monitoring.drift_metrics import drift_scores
    from kiln.monitoring.drift_reports import prime_drift_scores

    registry.register(drift_scores)
    try:
        with db.unit_of_work() as session:
            prime_drift_scores(session)
    except SQLAlchemyError:  # a database not migrated yet (create_app(migrate=False)): nothing to load
        log.warning("monitoring.drift_gauges_not_primed", exc_info=True)


def artifact_store(settings: KilnSettings) -> ArtifactStore:
    return ArtifactStore(settings.storage.root(settings.home), settings.storage.options(settings.home))


def register_job_kinds(store: ArtifactStore, settings: KilnSettings) -> None:
    """Every domain's job kinds, one line each (``kiln server``'s worker and ``kiln worker`` run
    them; the queue refuses a kind nobody registered). Pipeline steps write through ``store``."""
    from kiln.data import tasks as data_tasks
    from kiln.monitoring import tasks as monitoring_tasks
    from kiln.pipelines import tasks as pipeline_tasks

    monitoring_tasks.register_job_kinds()
    mailer = Mailer(settings.smtp, public_url=settings.auth.public_url)
    data_tasks.register_job_kinds()
    # The data jobs (ingestion's timer) write through this store and alert through this mailer.
    data_tasks.bind_runtime(store, mailer)
    pipeline_tasks.register_job_kinds(store, settings.pipelines, mailer=mailer)


def bind_job_store(db: Database, store: ArtifactStore) -> None:
    """Monitoring's jobs (drift reports, drift alert rules) read reference samples from ``store``."""
    from kiln.monitoring.alert_tasks import bind_store

    bind_store(db, store)


def start_recurring_jobs(db: Database) -> None:
    """Jobs that reschedule themselves, started once wherever a worker runs (idempotent)."""
    from kiln.monitoring import tasks as monitoring_tasks

    monitoring_tasks.ensure_ticking(db)


# What only ``kiln server`` builds, each importing its domain's module where it is built.


def _pipeline_triggers(db: Database) -> TriggerSubscription:
    from kiln.pipelines.tasks import TriggerSubscription

    return TriggerSubscription(db)


def _job_worker(db: Database, settings: KilnSettings) -> Worker:
    from kiln.jobs.worker import worker_from_settings

    return worker_from_settings(db, settings.worker)


def _announce_setup_token(db: Database, config: AuthConfig) -> str | None:
    from kiln.auth.setup import announce_setup_token

    return announce_setup_token(db, config)


def create_serving_app() -> FastAPI:
    """``kiln serve``'s factory (uvicorn ``--factory``): a prediction gateway on the same database
    and store as ``kiln server``."""
    return create_app(role="serving")


def _include_hot_routes(app: FastAPI) -> None:
    """Tracking's routes first: a training script calls them thousands of times, and each request walks
    the included routers in order, matching every route of each one before it (profiled: routing was
    about a tenth of the server's time for creating runs when tracking came after nine routers). No
    other router answers under ``/api/v1/experiments`` or ``/api/v1/runs``, so the order changes no
    match (tests/test_route_order.py)."""
    from kiln.tracking.router import router as tracking_router

    app.include_router(tracking_router)


def _include_serving_routers(app: FastAPI) -> None:
    """What a serving-only process answers (and the all-in-one server too)."""
    app.include_router(predictions_router)
    app.include_router(predict_router)
    app.include_router(deployments_read_router)
    app.include_router(inference_router)


def _include_control_plane(app: FastAPI) -> None:
    # Imported here, as the UI is: a serving-only process never loads the control plane's modules
    # (start-up time and idle memory of kiln serve).
    from kiln.audit.router import router as audit_router
    from kiln.auth.admin_router import router as admin_router
    from kiln.auth.router import router as auth_router
    from kiln.data import lineage_nodes as data_lineage_nodes
    from kiln.data.ingestion_router import router as data_ingestion_router
    from kiln.data.router import router as data_router
    from kiln.jobs.router import router as jobs_router
    from kiln.jobs.schedule_router import router as schedules_router
    from kiln.lineage.router import router as lineage_router
    from kiln.monitoring.alert_router import router as alerts_router
    from kiln.monitoring.retraining_router import router as retraining_router
    from kiln.monitoring.router import router as monitoring_router
    from kiln.notify.router import router as notify_router
    from kiln.pipelines import lineage_nodes as pipelines_lineage_nodes
    from kiln.pipelines.router import router as pipelines_router
    from kiln.registry import lineage_nodes as registry_lineage_nodes
    from kiln.registry.lifecycle_router import router as registry_lifecycle_router
    from kiln.registry.router import router as registry_router
    from kiln.serving.deployments_router import write_router as deployments_write_router
    from kiln.tracking.lineage_nodes import register_lineage_nodes

    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(audit_router)
    app.include_router(notify_router)
    app.include_router(jobs_router)
    app.include_router(schedules_router)
    # tracking_router: included first, by _include_hot_routes
    app.include_router(lineage_router)
    # Each domain above lineage describes its own nodes (labels, pages, projects): one line each.
    data_lineage_nodes.register_lineage_nodes()
    register_lineage_nodes()
    registry_lineage_nodes.register_lineage_nodes()
    pipelines_lineage_nodes.register_lineage_nodes()
    app.include_router(data_router)
    app.include_router(data_ingestion_router)
    app.include_router(registry_router)
    app.include_router(registry_lifecycle_router)
    app.include_router(deployments_write_router)
    app.include_router(monitoring_router)
    app.include_router(alerts_router)
    app.include_router(retraining_router)
    app.include_router(pipelines_router)
    _add_ui(app)
    check_upload_routes(app)


def _model_cache(settings: KilnSettings, db: Database, store: ArtifactStore) -> ModelCache:
    # Each process loads into a folder of its own (several serving processes may share a home).
    folder = settings.home / "serving-cache" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    return ModelCache(
        db,
        store,
        folder,
        poll_seconds=settings.serving.poll_seconds,
        max_models=settings.serving.max_models,
        retry_seconds=settings.serving.retry_seconds,
        trust_pickle=settings.registry.trust_pickle,
    )


def _add_ui(app: FastAPI) -> None:
    from kiln.ui.router import mount_ui

    mount_ui(app)


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], include_in_schema=True)
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["operations"], response_model=None)
    def readyz(db: DatabaseDep, store: StoreDep) -> JSONResponse | dict[str, str]:
        """The database answers and the artifact store is reachable."""
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
        registry = kiln_state(request.app).metrics_registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
