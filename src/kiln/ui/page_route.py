"""Page routes answer Kiln's errors with an HTML error page (the API keeps its JSON) and write the cookies."""

from __future__ import annotations

import html
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse

from kiln.core.errors import KilnError, error_class_for_status
from kiln.ui.csrf import write_csrf_cookie
from kiln.ui.session import LoginRequired, login_url, write_session_cookies
from kiln.ui.templating import render

log = structlog.get_logger("kiln.ui")


def error_page(request: Request, status_code: int, message: str, *, title: str | None = None) -> Response:
    # Titles belong to the error classes; a bare status (routing, validation) takes its base class's.
    title = title or (error_class_for_status(status_code) or KilnError).title
    return render(
        request,
        "error.html",
        {"section": "", "title": title, "status_code": status_code, "message": message},
        status_code=status_code,
    )


def _validation_summary(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "path"))
        parts.append(f"{location}: {error.get('msg', '')}" if location else str(error.get("msg", "")))
    return "; ".join(parts) or "the request is not valid"


def _login_redirect(request: Request, exc: LoginRequired) -> Response:
    target = login_url(exc.next_path)
    if request.headers.get("sec-fetch-site") == "cross-site" and request.method == "GET":
        # A link followed from another site (a mail, a chat) does not carry the SameSite=Strict
        # refresh cookie. Reload the page from here first: a same-site request carries it, and
        # the user is not asked to log in while their session is still alive.
        return HTMLResponse(
            '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0">'
            f'<title>Kiln</title><p><a href="{html.escape(target)}">Log in to continue</a></p>',
            headers={"cache-control": "no-store"},
        )
    return RedirectResponse(target, status_code=303)


class PageRoute(APIRoute):
    """An ``APIRoute`` whose failures render ``error.html`` with the right status code.

    It also answers ``LoginRequired`` with a redirect to the login page, and writes the cookies a
    page asked for (session refresh, login, logout, CSRF) onto whichever response goes out.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def respond(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginRequired as exc:
                return _login_redirect(request, exc)
            except KilnError as exc:
                if exc.status_code >= 500:
                    log.error("ui.server_error", code=exc.code, message=exc.message, path=request.url.path)
                return error_page(request, exc.status_code, exc.message, title=exc.title)
            except RequestValidationError as exc:
                return error_page(request, 400, _validation_summary(exc))
            except StarletteHTTPException as exc:
                return error_page(request, exc.status_code, str(exc.detail))
            except Exception:
                log.exception("ui.unhandled_error", path=request.url.path)
                request_id = structlog.contextvars.get_contextvars().get("request_id", "")
                message = f"An internal error occurred; quote request id {request_id} when reporting it."
                return error_page(request, 500, message)

        async def handle_page(request: Request) -> Response:
            response = await respond(request)
            write_session_cookies(request, response)
            write_csrf_cookie(request, response)
            return response

        return handle_page
