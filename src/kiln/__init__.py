"""Kiln: a self-hostable MLOps platform.

``import kiln`` stays light: the SDK (httpx, pydantic schemas) loads on first use of one of its
names, so a server process or a CLI ``--help`` does not pay for it, nor a script for what it skips.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kiln.core.errors import (
    ChecksumMismatch,
    Conflict,
    Invalid,
    InvalidState,
    KilnError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
)

__version__ = "0.1.0"

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
)
_LAZY: dict[str, str] = {
    "Client": "kiln.client.api",
    "ActiveRun": "kiln.client.run",
    "ServerUnreachable": "kiln.client.transport",
    "set_tracking_uri": "kiln.client.config",
    "get_tracking_uri": "kiln.client.config",
    **dict.fromkeys(_FLUENT, "kiln.client.fluent"),
}
_SUBMODULES = ("sklearn", "client")

__all__ = [
    "ActiveRun",
    "ChecksumMismatch",
    "Client",
    "Conflict",
    "Invalid",
    "InvalidState",
    "KilnError",
    "NotFound",
    "PermissionDenied",
    "ServerUnreachable",
    "Unauthenticated",
    "ValidationFailed",
    "__version__",
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

if TYPE_CHECKING:
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
    from kiln.client.run import ActiveRun
    from kiln.client.transport import ServerUnreachable


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
