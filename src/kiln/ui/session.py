"""The browser's login: session cookies, transparent refresh and the page dependency ``ui_actor``.

A login sets two cookies: ``kiln_access`` (the short-lived access JWT, SameSite=Lax so a link from
elsewhere opens the page logged in) and ``kiln_refresh`` (the rotating refresh token, SameSite=Strict,
never sent by a cross-site request). Both are HttpOnly, and Secure when the page is served over https
or ``KILN_PUBLIC_URL`` is https (behind a proxy that ends TLS, the request itself may look like http).
When the access token has expired, the next page request spends the refresh token and sets fresh
cookies on its response, so a user stays logged in for the whole session without noticing.

Cookies to set are parked on ``request.state`` and written by ``PageRoute`` onto whatever response
the page ends with (a page, a redirect or an error page), because a route that returns its own
response object never sees headers set on FastAPI's injected one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request, Response

from kiln.auth import tokens
from kiln.auth.access import authenticate
from kiln.auth.config import AuthConfig
from kiln.auth.deps import ACCESS_COOKIE, get_auth_config
from kiln.auth.schemas import TokenPair
from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.security import decode_access_token

REFRESH_COOKIE = "kiln_refresh"
DEFAULT_NEXT = "/experiments"
# Pages a login must never return to: they would log out again or loop.
_NO_RETURN = frozenset({"/login", "/logout", "/register", "/forgot-password", "/reset-password"})


class LoginRequired(Exception):
    """Raised by ``ui_actor``; ``PageRoute`` answers it with a redirect to the login page."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("login required")
        self.next_path = next_path


@dataclass(slots=True)
class PendingCookies:
    pair: TokenPair | None = None
    clear: bool = False


def pending_cookies(request: Request) -> PendingCookies:
    pending = getattr(request.state, "session_cookies", None)
    if not isinstance(pending, PendingCookies):
        pending = PendingCookies()
        request.state.session_cookies = pending
    return pending


def start_session(request: Request, pair: TokenPair) -> None:
    """Log the browser in: the response will carry the session cookies."""
    pending = pending_cookies(request)
    pending.pair, pending.clear = pair, False


def end_session(request: Request) -> None:
    """Log the browser out: the response will delete the session cookies."""
    pending = pending_cookies(request)
    pending.pair, pending.clear = None, True


def auth_config(request: Request) -> AuthConfig:
    return get_auth_config(request)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or auth_config(request).public_url.lower().startswith("https://")


def write_session_cookies(request: Request, response: Response) -> None:
    pending = getattr(request.state, "session_cookies", None)
    if not isinstance(pending, PendingCookies):
        return
    secure = is_https(request)
    if pending.pair is not None:
        config = auth_config(request)
        response.set_cookie(
            ACCESS_COOKIE,
            pending.pair.access_token,
            max_age=int(config.access_ttl.total_seconds()),
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )
        response.set_cookie(
            REFRESH_COOKIE,
            pending.pair.refresh_token,
            max_age=int(config.session_ttl.total_seconds()),
            path="/",
            secure=secure,
            httponly=True,
            samesite="strict",
        )
    elif pending.clear:
        response.delete_cookie(ACCESS_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
        response.delete_cookie(REFRESH_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")


def _browser_actor(actor: Actor | None) -> Actor | None:
    # The UI is for people: an API key pasted into the cookie has no session to tie a CSRF token to.
    if actor is None or actor.kind != "user" or not actor.session_id:
        return None
    return actor


def authenticate_page(request: Request) -> Actor | None:
    """The logged-in user behind the request's cookies, refreshing an expired access token; or None.

    Runs in its own unit of work, committed before the page does anything: a rotated refresh token
    (or a detected reuse, which revokes the session) must be stored whatever the page does next.
    """
    known = getattr(request.state, "actor", None)
    if isinstance(known, Actor):
        return known
    access = request.cookies.get(ACCESS_COOKIE)
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not access and not refresh:
        return None
    config = auth_config(request)
    db = get_db(request)
    actor: Actor | None = None
    with db.unit_of_work() as session:
        if access:
            actor = _browser_actor(authenticate(session, access, config))
        if actor is None and refresh:
            pair = tokens.refresh_tokens(session, refresh, config)
            if pair is not None:
                actor = _browser_actor(authenticate(session, pair.access_token, config))
                if actor is not None:
                    start_session(request, pair)
    if actor is None:
        # The cookies the browser sent are dead: drop them rather than resend them on every request.
        end_session(request)
        return None
    request.state.actor = actor
    return actor


def session_id_from_cookies(request: Request) -> str | None:
    """The login session the cookies name, even when the user is no longer allowed in (for logout)."""
    config = auth_config(request)
    access = request.cookies.get(ACCESS_COOKIE)
    claims = decode_access_token(access, secret=config.secret_key) if access else None
    if claims and claims.get("sid"):
        return str(claims["sid"])
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    with get_db(request).unit_of_work() as session:
        return tokens.session_for_refresh_token(session, refresh)


def current_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def ui_actor(request: Request) -> Actor:
    """Page dependency: the logged-in user, or a redirect to the login page that comes back here."""
    actor = authenticate_page(request)
    if actor is None:
        # After logging in, a GET page is shown again; a form POST cannot be replayed, so the user
        # lands on the default page.
        raise LoginRequired(current_path(request) if request.method in ("GET", "HEAD") else None)
    return actor


UiActor = Annotated[Actor, Depends(ui_actor)]


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another site (no open redirect)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return DEFAULT_NEXT
    # Browsers read a backslash as a slash ("/\evil.example") and drop tabs and newlines.
    if "\\" in value or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in _NO_RETURN:
        return DEFAULT_NEXT
    return value


def login_url(next_path: str | None) -> str:
    target = safe_next(next_path)
    return "/login" if target == DEFAULT_NEXT else "/login?" + urlencode({"next": target})
