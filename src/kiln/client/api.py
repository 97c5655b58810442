"""``kiln.Client``: the REST API, one resource object per domain over one shared transport.

``client.runs.get(run_id)``, ``client.experiments.get_or_create("churn")``, ``client.projects.list()``,
``client.api_keys.create(...)``. The flat methods of earlier releases (``client.get_run``, ...) remain
as aliases of the resource methods.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from kiln.client import config
from kiln.client.resources import (
    AlertsResource,
    ApiKeysResource,
    ArtifactsResource,
    AuthResource,
    DatasetsResource,
    DeploymentsResource,
    ExperimentsResource,
    JobsResource,
    LineageResource,
    ModelLifecycleResource,
    ModelsResource,
    MonitoringResource,
    NotificationsResource,
    PipelinesResource,
    PredictionsResource,
    ProjectsResource,
    Resource,
    RunsResource,
    SchedulesResource,
)
from kiln.client.transport import Transport

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R", bound=Resource)


def _alias(resource: str, method: Callable[Concatenate[R, P], T]) -> Callable[Concatenate[Client, P], T]:
    """``Client.<old name>``: the same call as ``client.<resource>.<method>``, same signature and docs."""

    @functools.wraps(method)
    def forward(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        target: Any = getattr(self, resource)
        return method(target, *args, **kwargs)

    return forward


class Client:
    """Access to a Kiln server; every method is one HTTP request (or a page-following loop).

    >>> client = kiln.Client("http://127.0.0.1:8000")
    >>> client.runs.get(run_id).metrics
    """

    def __init__(self, url: str | None = None, *, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = (url or config.get_tracking_uri()).rstrip("/")
        self.transport = Transport(self.url, token=token or config.get_token(self.url), timeout=timeout)
        # One line per resource; a new domain adds its own here (docs/sdk.md).
        self.experiments = ExperimentsResource(self.transport)
        self.runs = RunsResource(self.transport, self.experiments)
        self.artifacts = ArtifactsResource(self.transport)
        self.auth = AuthResource(self.transport)
        self.projects = ProjectsResource(self.transport)
        self.api_keys = ApiKeysResource(self.transport)
        self.lineage = LineageResource(self.transport)
        self.notifications = NotificationsResource(self.transport)
        self.models = ModelsResource(self.transport)
        self.model_lifecycle = ModelLifecycleResource(self.transport)
        self.predictions = PredictionsResource(self.transport)
        self.deployments = DeploymentsResource(self.transport)
        self.jobs = JobsResource(self.transport)
        self.schedules = SchedulesResource(self.transport)
        self.monitoring = MonitoringResource(self.transport)
        self.alerts = AlertsResource(self.transport)
        self.datasets = DatasetsResource(self.transport)
        self.pipelines = PipelinesResource(self.transport)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the flat names of earlier releases ------------------------------------------------------

    create_experiment = _alias("experiments", ExperimentsResource.create)
    get_experiment = _alias("experiments", ExperimentsResource.get)
    get_experiment_by_name = _alias("experiments", ExperimentsResource.get_by_name)
    get_or_create_experiment = _alias("experiments", ExperimentsResource.get_or_create)
    list_experiments = _alias("experiments", ExperimentsResource.list)
    iter_experiments = _alias("experiments", ExperimentsResource.iter)
    create_run = _alias("runs", RunsResource.create)
    get_run = _alias("runs", RunsResource.get)
    update_run = _alias("runs", RunsResource.update)
    log_batch = _alias("runs", RunsResource.log_batch)
    search_runs = _alias("runs", RunsResource.search)
    iter_runs = _alias("runs", RunsResource.iter)
    get_metric_history = _alias("runs", RunsResource.metric_history)
    compare_runs = _alias("runs", RunsResource.compare)
    reproduce_run = _alias("runs", RunsResource.reproduce)
    list_artifacts = _alias("artifacts", ArtifactsResource.list)
    upload_artifact = _alias("artifacts", ArtifactsResource.upload)
    upload_artifacts = _alias("artifacts", ArtifactsResource.upload_dir)
    download_artifact = _alias("artifacts", ArtifactsResource.download)
    download_artifacts = _alias("artifacts", ArtifactsResource.download_tree)


_default_lock = threading.Lock()
_default_client: Client | None = None
_default_generation = -1


def default_client() -> Client:
    """The process-wide client for the tracking URI in force (``kiln.set_tracking_uri`` / ``KILN_URL``)."""
    global _default_client, _default_generation
    with _default_lock:
        # set_tracking_uri bumps the generation; KILN_URL can also change under a running process.
        stale = _default_generation != config.generation() or (
            _default_client is not None and _default_client.url != config.get_tracking_uri()
        )
        if _default_client is None or stale:
            _default_client = Client()
            _default_generation = config.generation()
        return _default_client


def reset_default_client() -> None:
    global _default_client
    with _default_lock:
        _default_client = None
