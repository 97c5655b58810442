"""HTTP plumbing shared by all routes: one error shape, request ids, access logs and request metrics."""

from __future__ import annotations

import re
import time
import uuid
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiln.core.body_limits import BodyLimit, BodyLimits
from kiln.core.direct_routes import DirectRoutes
from kiln.core.errors import (
    KilnError,
    PayloadTooLarge,
    RateLimited,
    error_class_for_status,
    registered_errors,
)
from kiln.core.schemas import ErrorBody
from kiln.core.security_headers import with_security_headers

log = structlog.get_logger("kiln.http")


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(jsonable_encoder(body), status_code=status)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router: the error shape under each status it can answer, for OpenAPI."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        codes = sorted(cls.code for cls in registered_errors().values() if cls.status_code == status)
        if not codes:
            raise ValueError(f"no Kiln error class answers HTTP {status}")
        reason = HTTPStatus(status).phrase
        declared[status] = {
            "description": f"{reason} (error code: {' | '.join(codes)})",
            # A reference, not ``"model": ErrorBody``: FastAPI builds a pydantic field per route and
            # status for a model (about 2,800 of them, a third of the server's start-up), all the same.
            "content": {"application/json": {"schema": {"$ref": _ERROR_BODY_REF}}},
        }
    return declared


_ERROR_BODY_REF = "#/components/schemas/ErrorBody"


def document_error_body(app: FastAPI) -> None:
    """Put ``ErrorBody`` (and what it nests) in the OpenAPI components that ``error_responses``
    refers to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(body.pop("$defs", {}))
            schemas["ErrorBody"] = body
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def kiln_error_answer(_request: Request, exc: Exception) -> JSONResponse:
    """The answer to a ``KilnError``: its status, code, message and details."""
    assert isinstance(exc, KilnError)
    if exc.status_code >= 500:
        log.error("http.server_error", code=exc.code, message=exc.message)
    response = error_response(exc.status_code, exc.code, exc.message, exc.details)
    if isinstance(exc, RateLimited) and "retry_after" in exc.details:
        # Clients and proxies read the standard header, not our JSON body.
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _location(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return error_response(422, "validation_failed", f"invalid request — {summary}", {"errors": errors[:50]})


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # Routing and body parsing raise these (404, 405, 413): answer with the error class's code.
    error_class = error_class_for_status(exc.status_code)
    code = error_class.code if error_class else "error"
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("http.unhandled_error", error=type(exc).__name__)
    request_id = structlog.contextvars.get_contextvars().get("request_id", "")
    return error_response(500, "internal", f"internal error; quote request id {request_id} when reporting it")


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the request carried (e.g. a NUL character in PostgreSQL text):
    # the caller's mistake, not ours.
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    log.warning("http.data_error", reason=reason)
    return error_response(400, "invalid", f"a value in the request cannot be stored: {reason}")


async def direct_error_answer(request: Request, exc: Exception) -> JSONResponse:
    """The app's answer to what a direct route raised (``kiln.core.direct_routes``): a ``KilnError``,
    or a value the database refused, as the handlers below answer them."""
    if isinstance(exc, DataError):
        return await _data_error(request, exc)
    return await kiln_error_answer(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KilnError, kiln_error_answer)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    document_error_body(app)
    # Anything else is answered by RequestContextMiddleware (see there why not by a handler here).


class HttpMetrics:
    """Prometheus request counters and latency histograms by route template (bounded cardinality)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "kiln_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "kiln_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        # Each labelled child once: ``labels()`` checks and joins its arguments on every call.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def record(self, method: str, template: str, status: int, seconds: float) -> None:
        key = (method, template, str(status))
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self.requests.labels(*key)
        counter.inc()
        timer = self._timed.get(key[:2])
        if timer is None:
            timer = self._timed[key[:2]] = self.latency.labels(method, template)
        timer.observe(seconds)


# A client's request id is kept only if it is plainly an id: it goes into every log line and audit
# record, so free text (spaces, quotes, newlines, markup) there would let a client forge entries.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(headers: dict[bytes, bytes]) -> str:
    offered = headers.get(b"x-request-id", b"").decode("latin-1")
    return offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


class RequestContextMiddleware:
    """Kiln's one ASGI layer around the app: binds a request id to every log line, caps request bodies
    (413), puts the security headers (kiln.core.security_headers) on every response, records metrics,
    writes the access log line, and answers an unexpected error with a 500 itself, so the connection
    stays usable. One layer rather than several: each costs the hot predict path a coroutine and a
    wrapped ``send``. ``direct`` routes are answered from here (kiln.core.direct_routes)."""

    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics, limits: BodyLimits, direct: DirectRoutes | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.limits = limits
        self.direct = direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = request_id_from(headers)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message.setdefault("headers", [])
                # A route may answer with an id of its own (a prediction's UUIDv7, which it logged).
                headers = message["headers"]
                if not any(key.lower() == b"x-request-id" for key, _ in headers):
                    headers = [*headers, (b"x-request-id", request_id.encode())]
                message["headers"] = with_security_headers(headers)
            await send(message)

        limit = self.limits.for_request(scope["method"], scope["path"], headers.get(b"content-type", b""))
        guard = _BodyGuard(limit, receive, send_with_id, scope)
        routes = self.direct
        try:
            if _declared_length(headers) > limit.max_bytes:
                await guard.refuse()  # before a byte of the body is read
            elif routes is not None and (direct := routes.find(scope)) is not None:
                await routes.answer(direct, scope, guard.receive, guard.send, self.app)
            else:
                await self.app(scope, guard.receive, guard.send)
        except Exception as exc:
            if guard.refused:
                return  # the app only saw the body end early: the 413 is the answer
            if response_started:
                raise  # part of a response is out: only closing the connection can tell the client
            # Answered here rather than by Starlette's ServerErrorMiddleware, which re-raises into the
            # server: uvicorn would log the traceback a second time and drop the keep-alive connection.
            response = await _unexpected_error(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.record(scope["method"], template, status, elapsed)
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )


class _BodyGuard:
    """Counts body bytes as they arrive (a chunked body declares no length, or a false one). Past the
    limit it answers 413 itself, before reading the rest, and tells the app the client went away; what
    the app sends after that is dropped."""

    def __init__(self, limit: BodyLimit, receive: Receive, send: Send, scope: Scope) -> None:
        self.limit, self._receive, self._send, self._scope = limit, receive, send, scope
        self.received = 0
        self.refused = False
        self._app_started = False

    async def refuse(self) -> None:
        self.refused = True
        message = f"request body exceeds {self.limit.max_bytes} bytes ({self.limit.setting})"
        response = error_response(413, PayloadTooLarge.code, message, {"limit_bytes": self.limit.max_bytes})
        await response(self._scope, self._receive, self._send)

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_bytes and not self._app_started:
                await self.refuse()
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self._app_started = True
        await self._send(message)


def _declared_length(headers: dict[bytes, bytes]) -> int:
    try:
        return int(headers.get(b"content-length", b"0"))
    except ValueError:
        return 0  # uvicorn refuses a malformed Content-Length before the app sees it
