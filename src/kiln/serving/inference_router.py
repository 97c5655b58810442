"""The Open Inference Protocol (KServe v2 / Triton REST) on deployments: ``/v2/...``.

A model of the protocol is a deployment, by its name; its one version is the version the deployment
serves (its number, as a string). Everything comes from the model cache, as on the REST predict route
(``predict_router``), whose lookup, authorization and prediction-log helpers these routes call: a
public deployment needs no key, any other ``predictions:create`` in its project, and a caller who may
not see it gets the same answer as for a deployment that does not exist.

Errors take the protocol's shape, ``{"error": "<message>"}``, with Triton's statuses (an unknown model
is 400, an unknown version 404, a model not ready 503); they are answered as ordinary responses, so
the keep-alive connection stays usable.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import orjson
import structlog
from fastapi import APIRouter, Request, Response

from kiln.core.actor import Actor
from kiln.core.errors import KilnError, NotFound
from kiln.serving.deps import get_model_cache, get_prediction_logger
from kiln.serving.inference_model import model_input, model_outputs, validated, wants_probabilities
from kiln.serving.inference_protocol import (
    HEADER_LENGTH,
    InferenceProtocolError,
    ModelMetadata,
    encode_infer_response,
    model_metadata_document,
    model_not_ready,
    parse_infer_request,
    server_metadata,
    unknown_model,
    unknown_version,
)
from kiln.serving.model_cache import Route
from kiln.serving.predict_router import authorize_request, find_route, run
from kiln.serving.predicting import log_prediction
from kiln.serving.prediction_record import new_request_id
from kiln.serving.schemas import InferenceErrorBody

log = structlog.get_logger(__name__)

# Bodies up to this size are parsed on the event loop (a thread hand-off costs more than they do).
INLINE_BODY_BYTES = 64 * 1024
T = TypeVar("T")
# Not the list of deployments: a caller must not learn the names of deployments it may not use.
UNKNOWN_MODEL_HINT = "a model here is a deployment, by its name (GET /api/v1/deployments lists yours)"


# Declaring 4XX/5XX documents the protocol's own error shape (and keeps FastAPI from announcing its
# default 422 body, which these routes never answer: a malformed request is a 400).
router = APIRouter(
    prefix="/v2",
    tags=["inference (Open Inference Protocol)"],
    responses={
        "4XX": {
            "model": InferenceErrorBody,
            "description": "a client mistake (400), no or a bad key (401), not allowed (403), "
            "an unknown version (404)",
        },
        "5XX": {"model": InferenceErrorBody, "description": "the model failed (500) or is not ready (503)"},
    },
)


def _error(error: InferenceProtocolError, request_id: str | None = None) -> Response:
    status, body, headers = error.response()
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return Response(body, status_code=status, headers=headers)


def _document(document: dict[str, Any]) -> Response:
    try:
        body = orjson.dumps(document)
    except TypeError:  # text that is not valid Unicode: the standard library writes it
        body = json.dumps(document, separators=(",", ":")).encode()
    return Response(body, media_type="application/json")


async def _served(
    request: Request, name: str, version: str | None
) -> tuple[Route, Actor | None, ModelMetadata]:
    """The deployment ``name`` at ``version``, checked for the caller, ready and OIP-shaped."""
    try:
        route = await find_route(request, name)
        actor = await authorize_request(request, route)
    except NotFound:  # no such deployment, or one of a project the caller is not in: the same answer
        raise unknown_model(name, hint=UNKNOWN_MODEL_HINT) from None
    except KilnError as exc:  # no key (401), a role without predictions:create (403), rate limited
        raise InferenceProtocolError(exc.message, status=exc.status_code) from None
    served = str(route.version_number)
    if version not in (None, "", served):
        raise unknown_version(name, str(version), [served])
    if route.model is None:
        raise model_not_ready(name, route.reason or "")
    if route.oip is None:
        raise model_not_ready(name, route.oip_reason or "")
    return route, actor, route.oip


@router.get("/health/live", response_model=None)
async def live() -> Response:
    """200 while the process is up."""
    return Response(status_code=200)


@router.get("/health/ready", response_model=None)
async def ready(request: Request) -> Response:
    """200 once this process has read its deployments (the model cache refreshed once)."""
    cache = get_model_cache(request)
    if not cache.refreshed_once:
        try:
            # Before the refresh thread's first pass (or without a lifespan): do that pass now.
            await anyio.to_thread.run_sync(cache.refresh)
        except Exception as exc:  # the database is not reachable yet: not ready, and why
            log.warning("serving.oip_not_ready", error=str(exc))
            return _error(InferenceProtocolError(f"not ready: {type(exc).__name__}", status=503))
    return Response(status_code=200)


@router.get("", response_model=None)
async def metadata() -> Response:
    """The server's name, version and protocol extensions (``binary_tensor_data``)."""
    return _document(server_metadata())


@router.get("/models/{name}", response_model=None)
@router.get("/models/{name}/versions/{version}", response_model=None)
async def model_metadata(name: str, request: Request, version: str | None = None) -> Response:
    """The deployment's inputs and outputs as protocol tensors, and the version it serves."""
    try:
        _, _, oip = await _served(request, name, version)
    except InferenceProtocolError as error:
        return _error(error)
    return _document(model_metadata_document(oip))


@router.get("/models/{name}/ready", response_model=None)
@router.get("/models/{name}/versions/{version}/ready", response_model=None)
async def model_ready(name: str, request: Request, version: str | None = None) -> Response:
    """200 when the deployment (at that version) answers inferences; the reason otherwise."""
    try:
        await _served(request, name, version)
    except InferenceProtocolError as error:
        return _error(error)
    return Response(status_code=200)


async def _off_loop(large: bool, work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work) if large else work()


@router.post("/models/{name}/infer", response_model=None)
@router.post("/models/{name}/versions/{version}/infer", response_model=None)
async def infer(name: str, request: Request, version: str | None = None) -> Response:
    """An inference: JSON, or a JSON header and binary tensors (``Inference-Header-Content-Length``)."""
    request_id = new_request_id()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        route, actor, oip = await _served(request, name, version)
    except InferenceProtocolError as error:
        return _error(error, request_id)
    model = route.model
    assert model is not None  # _served answers ready routes only
    # Every outcome goes to the prediction log with the same request facts.
    note = functools.partial(
        log_prediction, get_prediction_logger(request), route, actor, request_id, started
    )
    body = await request.body()
    headers = request.headers
    try:
        parsed = await _off_loop(
            len(body) > INLINE_BODY_BYTES,
            lambda: parse_infer_request(
                body,
                oip,
                header_length=headers.get(HEADER_LENGTH),
                content_encoding=headers.get("content-encoding"),
            ),
        )
        inputs, rows = model_input(oip, parsed)
        checked = await run(rows, lambda: validated(model, inputs))
    except InferenceProtocolError as error:
        note("invalid", error=error.message)
        return _error(error, request_id)
    probabilities = wants_probabilities(oip, parsed)
    try:
        result = await run(rows, lambda: model.predictor.predict(checked, probabilities=probabilities))
        answer, answer_headers = encode_infer_response(
            oip, str(route.version_number), parsed, model_outputs(oip, result)
        )
    except InferenceProtocolError as error:  # an output the model did not give, or cannot go as JSON
        status = "invalid" if error.status < 500 else "error"
        note(status, inputs=inputs, error=error.message)
        if error.status >= 500:
            error = InferenceProtocolError(f"{error.message} (request id {request_id})", status=error.status)
        return _error(error, request_id)
    except Exception as exc:  # the model's own code failed: logged, answered, and the process goes on
        log.exception("serving.model_failed", deployment=name, version_id=route.version_id, protocol="oip")
        failure = f"{type(exc).__name__}: {exc}"
        note("error", inputs=inputs, error=failure)
        message = f"the model failed on this request; quote request id {request_id} when reporting it"
        return _error(InferenceProtocolError(message, status=500), request_id)
    note("ok", inputs=inputs, outputs=result.to_dict())
    answer_headers["X-Request-ID"] = request_id
    return Response(answer, headers=answer_headers)
