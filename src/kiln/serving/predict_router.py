"""``POST /api/v1/deployments/{name}/predict`` and ``GET .../ready``: the request path, from memory.

The deployment and its model come from the model cache (no database). A public deployment needs no
key; otherwise the caller needs ``predictions:create`` in the deployment's project (a non-member
gets the same 404 as a missing deployment). The caller is checked against the credential cache
(``kiln.auth.credential_cache``): from memory, with the generic path's rules, rate limit and errors;
only a credential seen for the first time (or since an auth change) is read from the database.

Every prediction, refused or failed ones included, is appended to the prediction log (off the
request path). The answer carries a UUIDv7 request id, also in ``X-Request-ID``.

``predict`` is also a direct route (``DIRECT_ROUTES``): Kiln's ASGI layer calls it without FastAPI's
routing and dependency resolution, the one-row path's largest cost after the model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import orjson
import structlog
from fastapi import APIRouter, Request, Response

from kiln.auth.credential_cache import CachedCredential, CredentialCache
from kiln.auth.deps import get_credential_cache, get_rate_limits, required_credential
from kiln.core.actor import Actor
from kiln.core.direct_routes import DirectRoute
from kiln.core.errors import KilnError, NotFound, RateLimited
from kiln.core.http import error_response, error_responses
from kiln.core.permissions import Permission
from kiln.serving.deps import get_model_cache, get_prediction_logger
from kiln.serving.errors import NotReady
from kiln.serving.model_cache import Route
from kiln.serving.model_cost import INLINE_ROWS, runs_inline
from kiln.serving.numeric_body import read_numeric_logged
from kiln.serving.predict_payload import parse_payload
from kiln.serving.predicting import answer_json, log_prediction
from kiln.serving.prediction_record import new_request_id

log = structlog.get_logger(__name__)

T = TypeVar("T")


router = APIRouter(
    prefix="/api/v1/deployments",
    tags=["predictions"],
    responses=error_responses(400, 401, 403, 404, 413, 422, 429, 500, 503),
)


def authorize(request: Request, route: Route) -> Actor | None:
    """The caller, checked for ``predictions:create`` in the deployment's project; None if public.

    Synchronous: from memory, but a credential not cached yet is read from the database here, so
    call it from a thread, or ``await authorize_request(...)``, which goes to one only on a miss.
    """
    if route.public:
        return None
    cache = get_credential_cache(request)
    token = required_credential(request)
    return _admit(cache, cache.peek(token) or cache.load(token), route)


async def authorize_request(request: Request, route: Route) -> Actor | None:
    """``authorize`` for async routes: the event loop answers a cached credential (no thread, no
    database); a miss is read in a thread."""
    if route.public:
        return None
    cache = get_credential_cache(request)
    token = required_credential(request)
    entry = cache.peek(token)
    if entry is None:
        entry = await anyio.to_thread.run_sync(cache.load, token)
    if not get_rate_limits(request).in_memory:  # a shared rate-limit store is a network call
        return await anyio.to_thread.run_sync(_admit, cache, entry, route)
    return _admit(cache, entry, route)


def _admit(cache: CredentialCache, entry: CachedCredential, route: Route) -> Actor:
    hide_as = f"deployment {route.name!r}"
    return cache.admit(entry, route.project_id, Permission.predictions_create, hide_as=hide_as)


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


async def run(rows: int, work: Callable[[], T], *, inline: bool | None = None) -> T:
    """``work`` on the event loop when it is cheap (``inline``; by default up to ``INLINE_ROWS``
    rows), else in a worker thread, so an expensive model does not hold up other requests."""
    if inline is None:
        inline = rows <= INLINE_ROWS
    if inline:
        return work()
    return await anyio.to_thread.run_sync(work)


def _json(document: dict[str, Any], status: int, request_id: str) -> Response:
    try:
        body = orjson.dumps(document)  # the answer is JSON-safe already (no NaN: PredictionResult)
    except TypeError:  # an integer class past 64 bits, say: the standard library writes it
        body = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    return Response(
        body, status_code=status, media_type="application/json", headers={"X-Request-ID": request_id}
    )


def _error(exc: KilnError, request_id: str) -> Response:
    response = error_response(
        exc.status_code, exc.code, exc.message, {**exc.details, "request_id": request_id}
    )
    response.headers["X-Request-ID"] = request_id
    if isinstance(exc, RateLimited) and "retry_after" in exc.details:
        response.headers["Retry-After"] = str(exc.details["retry_after"])  # as the generic handler does
    return response


@router.post("/{name}/predict", response_model=None)
async def predict(name: str, request: Request) -> Response:
    """Predictions for records or columns, validated against the version's signature."""
    # Answered from Kiln's ASGI layer (``DIRECT_ROUTES``), not through FastAPI: keep it free of
    # ``Depends`` and of FastAPI-validated parameters other than the path's ``name``.
    request_id = new_request_id()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        route = await find_route(request, name)
        actor = await authorize_request(request, route)
    except KilnError as exc:
        return _error(exc, request_id)
    if route.model is None:
        return _error(NotReady(f"deployment {name!r} is not ready: {route.reason}"), request_id)
    body = await request.body()
    logger = get_prediction_logger(request)
    # A clean all-number body goes straight to the model's matrix; any other takes the general path.
    read = read_numeric_logged(route.model, body)
    checked, data_text = read if read is not None else (None, None)
    data: Any = None
    if checked is not None and data_text is not None:
        rows = checked.n_rows
        # Checked already, so what is left is the model: inline when small and cheap (model_cost).
        inline = runs_inline(route.model, rows)
    else:
        checked = None  # its inputs cannot be sliced out for the log: logged from the parsed body
        try:
            data, rows, data_text = parse_payload(body)
        except KilnError as exc:
            log_prediction(logger, route, actor, request_id, started, "invalid", error=exc.message)
            return _error(exc, request_id)
        inline = runs_inline(route.model, rows)
    try:
        encoded = await run(
            rows,
            lambda: answer_json(
                logger, route, actor, request_id, started, data, logged_inputs=data_text, checked=checked
            ),
            inline=inline,
        )
    except KilnError as exc:
        return _error(exc, request_id)
    return Response(
        encoded, status_code=200, media_type="application/json", headers={"X-Request-ID": request_id}
    )


@router.get("/{name}/ready", response_model=None)
async def deployment_ready(name: str, request: Request) -> Response:
    """200 when this process answers for the deployment (loaded, verified, warmed up); 503 and why not."""
    request_id = new_request_id()
    try:
        route = await find_route(request, name)
        await authorize_request(request, route)
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


# The one-row predict call skips FastAPI's routing and dependency solving (kiln.core.direct_routes).
DIRECT_ROUTES = [DirectRoute("POST", f"{router.prefix}/{{name}}/predict", predict)]
