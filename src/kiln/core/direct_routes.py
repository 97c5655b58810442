"""Routes answered straight from Kiln's ASGI layer, without FastAPI's routing and dependency solving.

The one-row predict call is the hottest request a serving process answers: its own work (the model
included) is a few hundred microseconds, and walking Starlette's middleware stack, the included
routers and FastAPI's dependency resolution for it cost about as much again (profiled: bench/
serving.py's py-spy section). A direct route is still declared on its FastAPI router (OpenAPI, the
same function, the same tests); ``RequestContextMiddleware`` only calls that same endpoint first,
with the path parameters matched here, for the method and path templates listed. Everything the
layer does for any request (request id, body limit, security headers, access log, metrics, the 500
answer) it does for these too. An endpoint must take ``request`` and its path parameters by keyword, return a
``Response`` and not rely on ``Depends``; a ``KilnError`` it raises is answered as the app's handler
answers it. An endpoint that leaves a request to its FastAPI route (a body it does not take) raises
``Fallback`` with the body it read: the request then goes on down the app as if never intercepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Endpoint = Callable[..., Awaitable[Response]]
KilnErrorAnswer = Callable[[Request, Exception], Awaitable[Response]]


class Fallback(Exception):
    """Raised by a direct endpoint to leave the request to the app's own route, with the body read."""

    def __init__(self, body: bytes) -> None:
        super().__init__("handed to the app's route")
        self.body = body


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that hands over ``body`` (already read) first, then whatever the client sends."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class DirectRoute:
    def __init__(self, method: str, path: str, endpoint: Endpoint) -> None:
        self.method = method
        self.path = path  # the template, as on its router: also the metrics' ``route`` label
        self.endpoint = endpoint
        self._regex, _, self._convertors = compile_path(path)

    def match(self, scope: Scope) -> dict[str, Any] | None:
        """The path parameters when ``scope`` is a request for this route, else None."""
        if scope["method"] != self.method:
            return None
        found = self._regex.match(scope["path"])
        if found is None:
            return None
        return {key: self._convertors[key].convert(value) for key, value in found.groupdict().items()}


class DirectRoutes:
    """The direct routes of one app; ``bind`` gives them the app (its state) once it exists."""

    def __init__(self, routes: list[DirectRoute], *, error_types: tuple[type[Exception], ...] = ()) -> None:
        self.routes = routes
        self.error_types = error_types
        self._app: ASGIApp | None = None
        self._errors: KilnErrorAnswer | None = None

    def bind(self, app: ASGIApp, errors: KilnErrorAnswer) -> None:
        self._app, self._errors = app, errors

    def find(self, scope: Scope) -> tuple[DirectRoute, dict[str, Any]] | None:
        if self._app is None or scope.get("root_path"):  # under a root path: Starlette's routing decides
            return None
        for route in self.routes:
            params = route.match(scope)
            if params is not None:
                return route, params
        return None

    async def answer(
        self,
        found: tuple[DirectRoute, dict[str, Any]],
        scope: Scope,
        receive: Receive,
        send: Send,
        fallback: ASGIApp | None = None,
    ) -> None:
        """Answer through the route's endpoint; ``fallback`` (the rest of the app) takes a request the
        endpoint hands over (``Fallback``)."""
        route, params = found
        # What Starlette's router and app would have put in the scope for this route.
        scope["app"], scope["route"], scope["path_params"] = self._app, route, params
        scope["endpoint"] = route.endpoint
        request = Request(scope, receive, send)
        try:
            response = await route.endpoint(request=request, **params)
        except Fallback as handed:
            if fallback is None:
                raise
            for key in ("route", "path_params", "endpoint"):
                scope.pop(key, None)
            await fallback(scope, _replay(handed.body, receive), send)
            return
        except self.error_types as exc:
            assert self._errors is not None
            response = await self._errors(request, exc)
        await response(scope, receive, send)
