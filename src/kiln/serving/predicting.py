"""One prediction from a loaded route: validate, predict, log. The API's predict route and the UI's
try-it form both come through ``answer``, so a form submission meets the same signature check, the
same messages and the same prediction log as an API call.

No database: the route and its model come from the model cache, and the outcome is appended to the
prediction log (``PredictionLogger.append``: no I/O). Refused and failed requests are logged too.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import structlog

from kiln.core.actor import Actor
from kiln.core.errors import KilnError
from kiln.registry.flavors import PredictionResult
from kiln.registry.signature import ModelInput
from kiln.serving.errors import ModelFailed, NotReady
from kiln.serving.model_cache import Route
from kiln.serving.prediction_log import PredictionLogger
from kiln.serving.prediction_record import JsonText, PredictionRecord

log = structlog.get_logger(__name__)


def log_prediction(
    logger: PredictionLogger,
    route: Route,
    actor: Actor | None,
    request_id: str,
    started: float,
    status: str,
    *,
    inputs: Any = None,
    outputs: Any = None,
    error: str | None = None,
) -> None:
    """Append one outcome (``ok``, ``invalid``, ``error``) to the prediction log; ``actor`` None: public."""
    logger.append(
        PredictionRecord(
            request_id=request_id,
            deployment=route.name,
            project_id=route.project_id,
            model_name=route.model_name,
            status=status,
            latency_ms=(time.perf_counter() - started) * 1000,
            inputs=inputs,
            outputs=outputs,
            model_version_id=route.version_id,
            model_version_number=route.version_number,
            deployment_id=route.deployment_id,
            error=error,
            caller=actor.label if actor is not None else "public",
            caller_user_id=actor.user_id if actor is not None else None,
        )
    )


def answer(
    logger: PredictionLogger,
    route: Route,
    actor: Actor | None,
    request_id: str,
    started: float,
    data: Any,
    *,
    logged_inputs: JsonText | None = None,
    checked: ModelInput | None = None,
) -> dict[str, Any]:
    """The prediction document for ``data`` (records or columns), logged (as ``logged_inputs``, the
    request's own JSON text of ``data``, when the caller has it). ``checked``: ``data`` already
    checked against the signature (``numeric_body``), so it is not checked again.

    Raises ``NotReady`` (503) when the route has no model, ``ValidationFailed`` (422, naming each bad
    field in ``details.problems``) when ``data`` does not fit the signature, and ``ModelFailed``
    (500, with the request id to quote) when the model raises; the traceback is logged.
    """
    result, _ = _predict(logger, route, actor, request_id, started, data, logged_inputs, checked)
    return {**answer_head(route, request_id), **result.to_dict()}


def answer_json(
    logger: PredictionLogger,
    route: Route,
    actor: Actor | None,
    request_id: str,
    started: float,
    data: Any,
    *,
    logged_inputs: JsonText | None = None,
    checked: ModelInput | None = None,
) -> bytes:
    """``answer``'s document as JSON bytes, its outputs encoded once for both the answer and the
    prediction log (the same errors as ``answer``)."""
    _, outputs = _predict(logger, route, actor, request_id, started, data, logged_inputs, checked)
    head = answer_head(route, request_id)
    try:
        opening = orjson.dumps(head)
    except TypeError:  # not expected (names and ids are text): the standard library decides
        opening = json.dumps(head, separators=(",", ":")).encode()
    # {"request_id":...,"model":{...}} + {"predictions":...}: one object, the keys in to_dict's order.
    return opening[:-1] + b"," + outputs[1:]


def answer_head(route: Route, request_id: str) -> dict[str, Any]:
    """The keys of a prediction answer before its outputs."""
    return {
        "request_id": request_id,
        "deployment": route.name,
        "model": {"name": route.model_name, "version": route.version_number, "version_id": route.version_id},
    }


def _predict(
    logger: PredictionLogger,
    route: Route,
    actor: Actor | None,
    request_id: str,
    started: float,
    data: Any,
    logged_inputs: JsonText | None,
    checked: ModelInput | None,
) -> tuple[PredictionResult, bytes]:
    """Validate (unless ``checked``), predict, log: the result and its outputs' JSON."""
    model = route.model
    if model is None:
        raise NotReady(f"deployment {route.name!r} is not ready: {route.reason}")
    try:
        validated = model.validate(data) if checked is None else checked
    except KilnError as exc:
        log_prediction(logger, route, actor, request_id, started, "invalid", error=exc.message)
        raise
    try:
        result = model.predictor.predict(validated, probabilities=True)
    except Exception as exc:
        log.exception("serving.model_failed", deployment=route.name, version_id=route.version_id)
        error = f"{type(exc).__name__}: {exc}"
        inputs = data if logged_inputs is None else logged_inputs
        log_prediction(logger, route, actor, request_id, started, "error", inputs=inputs, error=error)
        raise ModelFailed(
            f"the model failed on this request; quote request id {request_id} when reporting it"
        ) from None
    # Encoded once: the answer's outputs and the prediction log's are the same text.
    outputs = result.to_json()
    inputs = data if logged_inputs is None else logged_inputs
    log_prediction(
        logger, route, actor, request_id, started, "ok", inputs=inputs, outputs=JsonText(outputs.decode())
    )
    return result, outputs
