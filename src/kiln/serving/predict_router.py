"""``POST /api/v1/deployments/{name}/predict`` and ``GET .../ready``: the request path, from memory.

The deployment and its model come from the model cache (no database). A public deployment needs no
key; otherwise the caller needs ``predictions:create`` in the deployment's project (a non-member
gets the same 404 as a missing deployment). That check still goes through the generic
authenticator, which reads the database (a few queries); an in-memory key cache invalidated on
revocation is the planned optimisation (issue 15, "Performance is a feature").

Every prediction, refused or failed ones included, is appended to the prediction log (off the
request path). The answer carries a UUIDv7 request id, also in ``X-Request-ID``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import structlog
from fastapi import APIRouter, Request, Response

from kiln.auth.projects import require_in_project
from kiln.core.actor import Actor
from kiln.core.deps import core_state
from kiln.core.errors import KilnError, NotFound, PermissionDenied, ValidationFailed
from kiln.core.http import error_response, error_responses
from kiln.core.permissions import Permission
from kiln.serving.deps import get_model_cache, get_prediction_logger
from kiln.serving.errors import NotReady
from kiln.serving.model_cache import Route
from kiln.serving.predicting import answer, log_prediction
from kiln.serving.prediction_log import new_request_id

log = structlog.get_logger(__name__)

# Batches up to this many rows run on the event loop (a thread hand-off costs more than they do).
INLINE_ROWS = 100
T = TypeVar("T")


router = APIRouter(
    prefix="/api/v1/deployments",
    tags=["predictions"],
    responses=error_responses(400, 401, 403, 404, 413, 422, 429, 500, 503),
)


def authorize(request: Request, route: Route) -> Actor | None:
    """The caller, checked for ``predictions:create`` in the deployment's project; None if public."""
    if route.public:
        return None
    state = core_state(request)
    with state.db.unit_of_work() as session:
        actor = state.authenticator(request, session)
        require_in_project(
            session,
            actor,
            route.project_id,
            Permission.predictions_create,
            hide_as=f"deployment {route.name!r}",
        )
    reason = actor.refusal(Permission.predictions_create)
    if reason is not None:
        raise PermissionDenied(reason)
    return actor


async def find_route(request: Request, name: str) -> Route:
    cache = get_model_cache(request)
    route = cache.route(name)
    if route is None and not cache.refreshed_once:
        # The first request before the refresh thread's first pass (or in an app run without its
        # lifespan) loads the routes itself rather than answer for a process that is not ready.
        await anyio.to_thread.run_sync(cache.refresh)
        route = cache.route(name)
    if route is None:
        raise NotFound(f"deployment {name!r} not found")
    return route


async def run(rows: int, work: Callable[[], T]) -> T:
    if rows <= INLINE_ROWS:
        return work()
    return await anyio.to_thread.run_sync(work)


def _json(document: dict[str, Any], status: int, request_id: str) -> Response:
    body = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    return Response(
        body, status_code=status, media_type="application/json", headers={"X-Request-ID": request_id}
    )


def _error(exc: KilnError, request_id: str) -> Response:
    response = error_response(
        exc.status_code, exc.code, exc.message, {**exc.details, "request_id": request_id}
    )
    response.headers["X-Request-ID"] = request_id
    return response


def parse_payload(body: bytes) -> tuple[Any, int]:
    """``{"inputs": [{...}, ...]}`` (records) or ``{"columns": {...}}``: the data and its row count."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict) or len(payload.keys() & {"inputs", "columns"}) != 1:
        raise ValidationFailed(
            'send {"inputs": [{"field": value, ...}, ...]} (records) or {"columns": {"field": [values]}}',
            details={"field": "body"},
        )
    unknown = sorted(payload.keys() - {"inputs", "columns"})
    if unknown:
        raise ValidationFailed(f"unknown top-level field {unknown[0]!r}", details={"field": unknown[0]})
    if "inputs" in payload:
        records = payload["inputs"]
        if not isinstance(records, list) or not records or not all(isinstance(row, dict) for row in records):
            raise ValidationFailed(
                "inputs: expected a non-empty list of records (objects)", details={"field": "inputs"}
            )
        return records, len(records)
    columns = payload["columns"]
    if not isinstance(columns, dict) or not columns or not all(isinstance(v, list) for v in columns.values()):
        raise ValidationFailed(
            "columns: expected an object of equal-length lists", details={"field": "columns"}
        )
    return columns, max(len(values) for values in columns.values())


@router.post("/{name}/predict", response_model=None)
async def predict(name: str, request: Request) -> Response:
    """Predictions for records or columns, validated against the version's signature."""
    request_id = new_request_id()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        route = await find_route(request, name)
        actor = (
            authorize(request, route)
            if route.public
            else await anyio.to_thread.run_sync(authorize, request, route)
        )
    except KilnError as exc:
        return _error(exc, request_id)
    if route.model is None:
        return _error(NotReady(f"deployment {name!r} is not ready: {route.reason}"), request_id)
    body = await request.body()
    logger = get_prediction_logger(request)
    try:
        data, rows = parse_payload(body)
    except KilnError as exc:
        log_prediction(logger, route, actor, request_id, started, "invalid", error=exc.message)
        return _error(exc, request_id)
    try:
        document = await run(rows, lambda: answer(logger, route, actor, request_id, started, data))
    except KilnError as exc:
        return _error(exc, request_id)
    return _json(document, 200, request_id)


@router.get("/{name}/ready", response_model=None)
async def deployment_ready(name: str, request: Request) -> Response:
    """200 when this process answers for the deployment (loaded, verified, warmed up); 503 and why not."""
    request_id = new_request_id()
    try:
        route = await find_route(request, name)
        if not route.public:
            await anyio.to_thread.run_sync(authorize, request, route)
    except KilnError as exc:
        return _error(exc, request_id)
    if route.model is None:
        return _error(NotReady(f"deployment {name!r} is not ready: {route.reason}"), request_id)
    document = {
        "ready": True,
        "deployment": name,
        "model": {"name": route.model_name, "version": route.version_number},
    }
    return _json(document, 200, request_id)
