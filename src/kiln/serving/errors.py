"""Serving's own errors, importable without the web framework: the SDK raises the same classes
(``except kiln.serving.errors.NotReady``), since each registers itself by its code."""

from __future__ import annotations

from kiln.core.errors import KilnError


class NotReady(KilnError):
    """The deployment exists but this process cannot answer for it (yet): the reason says why."""

    code = "not_ready"
    status_code = 503
    title = "Not ready"


class ModelFailed(KilnError):
    """The model raised on a request that passed validation (logged with its traceback)."""

    code = "model_failed"
    status_code = 500
