"""What the serving path hands the prediction log: one record per answered (or refused) request."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from kiln.core.ids import new_id


class JsonText(str):
    """Text that is already JSON (a request's own text of its inputs): logged as it is."""

    __slots__ = ()


class PredictionRecord(NamedTuple):
    """One answered (or refused) prediction request, as the serving path knows it.

    A tuple, so building one on the request path costs next to nothing. The logger keeps references
    to ``inputs`` and ``outputs`` until they are written: do not change them after appending.
    Either may be ``JsonText``, stored as it is.
    """

    request_id: str
    deployment: str
    project_id: str
    model_name: str
    status: str  # "ok" | "invalid" | "error" (kiln.serving.schemas.PredictionStatus)
    latency_ms: float
    inputs: Any = None
    outputs: Any = None
    model_version_id: str | None = None
    model_version_number: int | None = None
    deployment_id: str | None = None
    error: str | None = None
    caller: str = ""
    caller_user_id: str | None = None
    # When the request arrived; ``None``: when it was appended.
    created_at: datetime | None = None


def new_request_id() -> str:
    """A request id for a prediction (UUIDv7: time-ordered, unique across serving processes)."""
    return new_id()
