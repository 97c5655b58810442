"""The Python SDK over HTTP (``import kiln``). Imports only schemas, errors and httpx from Kiln."""

from kiln.client.api import Client
from kiln.client.config import get_tracking_uri, set_tracking_uri
from kiln.client.fluent import (
    active_run,
    end_run,
    flush,
    log_artifact,
    log_artifacts,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    set_tag,
    set_tags,
    start_run,
)
from kiln.client.pages import ResultPage
from kiln.client.run import ActiveRun
from kiln.client.transport import ServerUnreachable

__all__ = [
    "ActiveRun",
    "Client",
    "ResultPage",
    "ServerUnreachable",
    "active_run",
    "end_run",
    "flush",
    "get_tracking_uri",
    "log_artifact",
    "log_artifacts",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
