"""Kiln: a self-hostable MLOps platform.

``import kiln`` stays light: the SDK (httpx, pydantic schemas) loads on first use of one of its
names, so a server process or a CLI ``--help`` does not pay for it, nor a script for what it skips.

``_LAZY`` is the one export table: ``__all__`` and ``dir(kiln)`` derive from it. The
``TYPE_CHECKING`` imports below repeat it for type checkers, and ``tests/client/test_package.py``
fails when the two disagree.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kiln.core.version import VERSION as __version__

_ERRORS = (
    "KilnError",
    "Invalid",
    "ValidationFailed",
    "Unauthenticated",
    "PermissionDenied",
    "NotFound",
    "Conflict",
    "InvalidState",
    "PayloadTooLarge",
    "RateLimited",
    "ChecksumMismatch",
)
_FLUENT = (
    "start_run",
    "active_run",
    "end_run",
    "flush",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "set_tags",
    "log_input",
    "log_artifact",
    "log_artifacts",
    "feedback",
    "predict",
)
_LAZY: dict[str, str] = {
    **dict.fromkeys(_ERRORS, "kiln.core.errors"),
    "Client": "kiln.client.api",
    "ActiveRun": "kiln.client.run",
    "ResultPage": "kiln.client.pages",
    "ServerUnreachable": "kiln.client.transport",
    "NotificationKind": "kiln.notify.schemas",
    "set_tracking_uri": "kiln.client.config",
    "get_tracking_uri": "kiln.client.config",
    **dict.fromkeys(_FLUENT, "kiln.client.fluent"),
    "save_model": "kiln.client.sklearn_model",
    "register_model": "kiln.client.registry",
    "load_model": "kiln.client.registry",
    "datasets": "kiln.client.dataset_shortcuts",
    "alerts": "kiln.client.alert_shortcuts",
    "DatasetQualityFailed": "kiln.data.errors",
}
_SUBMODULES = ("sklearn", "client", "pipelines")

__all__ = ["__version__", *sorted(_LAZY)]

if TYPE_CHECKING:
    from kiln.client.alert_shortcuts import alerts as alerts
    from kiln.client.api import Client as Client
    from kiln.client.config import get_tracking_uri as get_tracking_uri
    from kiln.client.config import set_tracking_uri as set_tracking_uri
    from kiln.client.dataset_shortcuts import datasets as datasets
    from kiln.client.fluent import active_run as active_run
    from kiln.client.fluent import end_run as end_run
    from kiln.client.fluent import feedback as feedback
    from kiln.client.fluent import flush as flush
    from kiln.client.fluent import log_artifact as log_artifact
    from kiln.client.fluent import log_artifacts as log_artifacts
    from kiln.client.fluent import log_input as log_input
    from kiln.client.fluent import log_metric as log_metric
    from kiln.client.fluent import log_metrics as log_metrics
    from kiln.client.fluent import log_param as log_param
    from kiln.client.fluent import log_params as log_params
    from kiln.client.fluent import predict as predict
    from kiln.client.fluent import set_tag as set_tag
    from kiln.client.fluent import set_tags as set_tags
    from kiln.client.fluent import start_run as start_run
    from kiln.client.pages import ResultPage as ResultPage
    from kiln.client.registry import load_model as load_model
    from kiln.client.registry import register_model as register_model
    from kiln.client.run import ActiveRun as ActiveRun
    from kiln.client.sklearn_model import save_model as save_model
    from kiln.client.transport import ServerUnreachable as ServerUnreachable
    from kiln.core.errors import ChecksumMismatch as ChecksumMismatch
    from kiln.core.errors import Conflict as Conflict
    from kiln.core.errors import Invalid as Invalid
    from kiln.core.errors import InvalidState as InvalidState
    from kiln.core.errors import KilnError as KilnError
    from kiln.core.errors import NotFound as NotFound
    from kiln.core.errors import PayloadTooLarge as PayloadTooLarge
    from kiln.core.errors import PermissionDenied as PermissionDenied
    from kiln.core.errors import RateLimited as RateLimited
    from kiln.core.errors import Unauthenticated as Unauthenticated
    from kiln.core.errors import ValidationFailed as ValidationFailed
    from kiln.data.errors import DatasetQualityFailed as DatasetQualityFailed
    from kiln.notify.schemas import NotificationKind as NotificationKind


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"kiln.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})
