"""What a serving process answers with: deployment name → loaded model, kept in memory.

The request path reads ``ModelCache.route(name)``: a dict lookup, no database. A background thread
polls ``max(deployments.revision)`` every ``poll_seconds`` (one index lookup) and, when it moved,
reads the active deployments, loads what is new and swaps in a whole new dict (a single assignment,
so a request sees the old routes or the new ones, never half of each, and none is dropped). An
in-process ``DeploymentChanged`` event wakes the thread at once; other processes see the change at
their next poll.

A version is loaded once (LRU by version id, shared by deployments of the same version): its files
are materialized into the cache folder verifying every sha256, loaded by flavor, and warmed up with
a prediction on its example input. A route is ready only when all three succeeded; otherwise it
carries the reason, and a failed load is retried every ``retry_seconds`` (a store that was fixed
heals without a redeploy).
"""

from __future__ import annotations

import gc
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiln.core import events
from kiln.core.db import Database
from kiln.core.errors import KilnError
from kiln.core.events import Event
from kiln.core.ids import new_id
from kiln.registry.files import VersionFiles, files_of, materialize_version
from kiln.registry.loaded_model import LoadedModel, load_model_folder
from kiln.registry.models import ModelVersion, RegisteredModel
from kiln.serving.deployment_models import Deployment
from kiln.serving.deployment_schemas import DeploymentRead, DeploymentStatus, Readiness
from kiln.serving.events import DeploymentChanged
from kiln.serving.inference_protocol import ModelMetadata, metadata_from_signature
from kiln.serving.model_cost import measure_cost
from kiln.storage.store import ArtifactStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    """One active deployment as this process serves it; ``model`` is ``None`` when not ready."""

    deployment_id: str
    name: str
    project_id: str
    public: bool
    model_name: str
    version_id: str
    version_number: int
    revision: int
    model: LoadedModel | None
    reason: str | None
    # The Open Inference Protocol's view (None when the signature has no inputs: ``oip_reason`` says so).
    oip: ModelMetadata | None = None
    oip_reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.model is not None


@dataclass(frozen=True, slots=True)
class _Wanted:
    deployment: Deployment
    model_name: str
    number: int
    files: VersionFiles | None  # None: already loaded


@dataclass(slots=True)
class _Failure:
    reason: str
    at: float


class ModelCache:
    def __init__(
        self,
        db: Database,
        store: ArtifactStore,
        cache_dir: Path,
        *,
        poll_seconds: float = 1.0,
        max_models: int = 16,
        retry_seconds: float = 30.0,
        trust_pickle: bool = False,
    ) -> None:
        self.db = db
        self.store = store
        self.cache_dir = cache_dir
        self.poll_seconds = poll_seconds
        self.max_models = max_models
        self.retry_seconds = retry_seconds
        self.trust_pickle = trust_pickle
        self._routes: dict[str, Route] = {}
        self._revision: int | None = None
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()
        self._failed: dict[str, _Failure] = {}
        self._refreshing = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshed_once = False
        self._starts = 0

    # -- the request path: memory only ------------------------------------------------------------

    def route(self, name: str) -> Route | None:
        return self._routes.get(name)

    def routes(self) -> dict[str, Route]:
        return self._routes

    # -- keeping it current ----------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Reload the routes if the deployments changed (or ``force``); True when they were rebuilt."""
        with self._refreshing:
            with self.db.unit_of_work() as session:
                revision = session.scalar(select(func.max(Deployment.revision)))
                if revision == self._revision and not force and not self._retry_due():
                    self.refreshed_once = True
                    return False
                wanted = self._read_deployments(session)
            routes = {item.deployment.name: self._route_for(item) for item in wanted}
            self._routes = routes  # the swap: one assignment
            self._revision = revision
            self._evict({route.version_id for route in routes.values()})
            self.refreshed_once = True
            log.info(
                "serving.routes_refreshed",
                revision=revision,
                deployments=len(routes),
                ready=sum(route.ready for route in routes.values()),
            )
            return True

    def notify(self, _event: Event | None = None) -> None:
        """Refresh now (an in-process deployment change), without waiting for the next poll."""
        self._wake.set()

    def start(self) -> None:
        """Start the refresh thread; each ``start`` is matched by a ``stop`` (an app's lifespan may be
        entered more than once, as by several test clients): the last ``stop`` ends it."""
        self._starts += 1
        if self._thread is not None:
            return
        events.subscribe(DeploymentChanged, self.notify)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="kiln-model-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._starts = max(0, self._starts - 1)
        if self._starts or self._thread is None:
            return
        events.unsubscribe(DeploymentChanged, self.notify)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._routes = {}
        self._loaded.clear()
        shutil.rmtree(self.cache_dir, ignore_errors=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.refresh()
            except Exception:  # a database hiccup must not end the thread: keep the routes, try again
                log.exception("serving.refresh_failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _retry_due(self) -> bool:
        now = time.monotonic()
        return any(now - failure.at >= self.retry_seconds for failure in self._failed.values())

    def _read_deployments(self, session: Session) -> list[_Wanted]:
        rows = session.execute(
            select(Deployment, RegisteredModel.name, ModelVersion)
            .join(RegisteredModel, RegisteredModel.id == Deployment.model_id)
            .join(ModelVersion, ModelVersion.id == Deployment.version_id)
            .where(Deployment.status == DeploymentStatus.active.value)
        ).all()
        wanted = []
        for deployment, model_name, version in rows:
            needs_files = version.id not in self._loaded and self._should_try(version.id)
            files = files_of(version) if needs_files else None
            session.expunge(deployment)
            wanted.append(_Wanted(deployment, model_name, version.number, files))
        return wanted

    def _should_try(self, version_id: str) -> bool:
        failure = self._failed.get(version_id)
        return failure is None or time.monotonic() - failure.at >= self.retry_seconds

    def _route_for(self, item: _Wanted) -> Route:
        deployment = item.deployment
        model = self._model(deployment.version_id, item.files)
        reason = None if model is not None else self._failed[deployment.version_id].reason
        oip, oip_reason = None, None
        if model is not None:
            try:
                oip = metadata_from_signature(
                    deployment.name,
                    model.signature,
                    versions=(str(item.number),),
                    platform=f"kiln_{model.descriptor.flavor}",
                )
            except KilnError as exc:
                oip_reason = exc.message
        return Route(
            deployment_id=deployment.id,
            name=deployment.name,
            project_id=deployment.project_id,
            public=deployment.public,
            model_name=item.model_name,
            version_id=deployment.version_id,
            version_number=item.number,
            revision=deployment.revision,
            model=model,
            reason=reason,
            oip=oip,
            oip_reason=oip_reason,
        )

    def _model(self, version_id: str, files: VersionFiles | None) -> LoadedModel | None:
        loaded = self._loaded.get(version_id)
        if loaded is not None:
            self._loaded.move_to_end(version_id)
            return loaded
        if files is None:
            return None  # failed recently: the reason stays until the retry
        try:
            loaded = self._load(version_id, files)
        except Exception as exc:
            reason = exc.message if isinstance(exc, KilnError) else f"{type(exc).__name__}: {exc}"
            log.warning("serving.model_not_ready", version_id=version_id, reason=reason, exc_info=True)
            self._failed[version_id] = _Failure(reason, time.monotonic())
            return None
        self._failed.pop(version_id, None)
        self._loaded[version_id] = loaded
        return loaded

    def _load(self, version_id: str, files: VersionFiles) -> LoadedModel:
        folder = self.cache_dir / f"{version_id}-{new_id()[-12:]}"
        try:
            materialize_version(self.store, files, folder)
            model = load_model_folder(folder, trust_pickle=self.trust_pickle)
            if model.descriptor.example_input is not None:
                model.smoke_test()
                _measure_cost(model, version_id)
            else:
                log.info("serving.warmup_skipped", version_id=version_id, reason="no example input")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        # What the model built while loading lives as long as it does: keep it out of the collector.
        gc.freeze()
        log.info("serving.model_loaded", version_id=version_id, folder=str(folder))
        return model

    def _evict(self, in_use: set[str]) -> None:
        for version_id in list(self._loaded):
            if len(self._loaded) <= self.max_models:
                break
            if version_id not in in_use:
                model = self._loaded.pop(version_id)
                shutil.rmtree(model.folder, ignore_errors=True)
        for version_id in list(self._failed):
            if version_id not in in_use:
                del self._failed[version_id]


def _measure_cost(model: LoadedModel, version_id: str) -> None:
    # Decides whether its batches run on the event loop; without it they go by rows, as before.
    try:
        measure_cost(model)
    except Exception:
        log.warning("serving.model_cost_unmeasured", version_id=version_id, exc_info=True)


def readiness(cache: ModelCache, deployment: DeploymentRead) -> Readiness:
    """What this process can say about answering for ``deployment`` now."""
    if deployment.status is DeploymentStatus.stopped:
        return Readiness(ready=False, reason="the deployment is stopped")
    route = cache.route(deployment.name)
    if (
        route is None
        or route.revision < deployment.revision
        or route.version_id != deployment.model.version_id
    ):
        return Readiness(
            ready=False,
            reason="this change is not loaded yet (serving processes pick it up within seconds)",
            pending=True,
        )
    return Readiness(ready=route.ready, reason=None if route.ready else route.reason)
