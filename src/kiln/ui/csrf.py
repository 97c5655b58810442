"""CSRF protection for the UI's forms: every state-changing POST carries a token a forged form cannot know.

A logged-in form's token is an HMAC of the login session's id under the server's secret key: it
needs no storage, stays the same while the session lives (so several tabs work), and dies with it.
The forms used before logging in (login, register, password reset) have no session yet: they use a
random ``kiln_csrf`` cookie and the HMAC of it in the form (a signed double submit), so another
site can neither read nor plant a matching pair. SameSite cookies are the second line of defence.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Annotated

import structlog
from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from kiln.core.actor import Actor
from kiln.core.errors import PermissionDenied
from kiln.core.security import same
from kiln.ui.session import UiActor, auth_config, is_https

log = structlog.get_logger("kiln.ui")

CSRF_FIELD = "csrf_token"
CSRF_COOKIE = "kiln_csrf"
CSRF_FAILED = "this form has expired or did not come from Kiln; reload the page and try again"


def _sign(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"kiln-csrf:{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def session_token(request: Request, session_id: str) -> str:
    return _sign(auth_config(request).secret_key, "session", session_id)


def anonymous_token(request: Request) -> str:
    """The token for a form shown before login; creates the ``kiln_csrf`` cookie on first use."""
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return _sign(auth_config(request).secret_key, "anonymous", nonce)


def write_csrf_cookie(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce and request.cookies.get(CSRF_COOKIE) != nonce:
        response.set_cookie(
            CSRF_COOKIE, nonce, path="/", secure=is_https(request), httponly=True, samesite="strict"
        )


def token_for_page(request: Request) -> str:
    actor = getattr(request.state, "actor", None)
    if isinstance(actor, Actor) and actor.session_id:
        return session_token(request, actor.session_id)
    return anonymous_token(request)


async def submitted_form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(submitted_form)]


def field(form: FormData, name: str, *, limit: int = 5000) -> str:
    """A text field, stripped and cut to a sane length; missing fields read as empty."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _submitted_token(form: FormData) -> str:
    return field(form, CSRF_FIELD, limit=200)


def anonymous_form_ok(request: Request, form: FormData) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE)
    ok = bool(nonce) and same(
        _sign(auth_config(request).secret_key, "anonymous", nonce or ""), _submitted_token(form)
    )
    if not ok:
        log.warning("ui.csrf_rejected", path=request.url.path, session=False)
    return ok


def form_actor(request: Request, actor: UiActor, form: FormDep) -> Actor:
    """Dependency for a logged-in form POST: the user, once the form's CSRF token checks out."""
    if not actor.session_id or not same(session_token(request, actor.session_id), _submitted_token(form)):
        log.warning("ui.csrf_rejected", path=request.url.path, session=True, actor_id=actor.id)
        raise PermissionDenied(CSRF_FAILED)
    return actor


FormActor = Annotated[Actor, Depends(form_actor)]
