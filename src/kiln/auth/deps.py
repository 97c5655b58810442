"""Auth's part of every request: who is calling (``BearerAuthenticator``) and auth's resources.

``kiln.core.deps`` owns ``current_actor`` and ``require``; ``app.py`` installs the authenticator
below on the app state, so routes of any domain check permissions without importing auth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol, cast

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kiln.auth.access import authenticate
from kiln.auth.config import AuthConfig
from kiln.auth.credential_cache import CachedCredential, CredentialCache
from kiln.auth.ratelimit import RateLimits
from kiln.core.actor import Actor
from kiln.core.errors import Unauthenticated

ACCESS_COOKIE = "kiln_access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthState(Protocol):
    @property
    def auth_config(self) -> AuthConfig: ...
    @property
    def rate_limits(self) -> RateLimits: ...
    @property
    def credential_cache(self) -> CredentialCache: ...


def auth_state(request: Request) -> AuthState:
    return cast(AuthState, request.app.state.kiln)


def get_auth_config(request: Request) -> AuthConfig:
    return auth_state(request).auth_config


def get_rate_limits(request: Request) -> RateLimits:
    return auth_state(request).rate_limits


def get_credential_cache(request: Request) -> CredentialCache:
    """The in-memory credentials (started and stopped by the lifespan)."""
    return auth_state(request).credential_cache


async def _auth_config(request: Request) -> AuthConfig:  # async: a state lookup needs no thread
    return auth_state(request).auth_config


async def _rate_limits(request: Request) -> RateLimits:
    return auth_state(request).rate_limits


AuthConfigDep = Annotated[AuthConfig, Depends(_auth_config)]
RateLimitsDep = Annotated[RateLimits, Depends(_rate_limits)]


def credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # The browser UI authenticates with a cookie; it is honoured only for reads, so a forged
    # cross-site form can never change anything through the API.
    if request.method in SAFE_METHODS:
        return request.cookies.get(ACCESS_COOKIE)
    return None


def required_credential(request: Request) -> str:
    """The request's credential, or the 401 that says how to send one."""
    token = credential(request)
    if not token:
        raise Unauthenticated(
            "authentication required: send 'Authorization: Bearer <access token or API key>'"
        )
    return token


@dataclass(frozen=True, slots=True)
class BearerAuthenticator:
    """``kiln.core.deps.Authenticator`` for the API: an access token or an API key, then the rate limit.

    The credential is looked up in the credential cache (no SQL when it is known, answered on the
    event loop; a miss is read in the request's own transaction, on a worker thread). Only while the
    cache is not running, and so would not hear of a revocation, is the database read every time.
    """

    cache: CredentialCache

    def __call__(self, request: Request, session: Session, /) -> Actor:
        token = required_credential(request)
        cache = self.cache
        if not cache.running:
            actor = authenticate(session, token, cache.config)
            return cache.authenticated(CachedCredential(actor, valid_until=0.0, checked_at=0.0))
        return cache.authenticated(cache.peek(token) or cache.load(token, session))

    def from_memory(self, request: Request, /) -> Actor | None:
        cache = self.cache
        # A shared rate-limit store (redis://) is a network call: that goes to a thread too.
        if not cache.running or not cache.limits.in_memory:
            return None
        entry = cache.peek(required_credential(request))
        return None if entry is None else cache.authenticated(entry)
