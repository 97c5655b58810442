"""The one dependency every protected route declares: ``require("runs:write")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from kiln.auth.access import authenticate
from kiln.auth.config import AuthConfig
from kiln.auth.permissions import refusal
from kiln.auth.ratelimit import RateLimits
from kiln.core.actor import Actor
from kiln.core.deps import SessionDep
from kiln.core.errors import PermissionDenied, Unauthenticated

ACCESS_COOKIE = "kiln_access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def current_actor(request: Request, session: SessionDep) -> Actor:
    token = credential(request)
    if not token:
        raise Unauthenticated(
            "authentication required: send 'Authorization: Bearer <access token or API key>'"
        )
    config: AuthConfig = request.app.state.auth_config
    actor = authenticate(session, token, config)
    if actor is None:
        raise Unauthenticated("invalid or expired token")
    limits: RateLimits = request.app.state.rate_limits
    limits.hit(limits.api, actor.user_id or actor.id)
    request.state.actor = actor
    return actor


def require(permission: str) -> Callable[..., Actor]:
    # The role, and the reach of a key (project-scoped keys never get global or account
    # permissions), are both checked here, so no route can forget the second.
    def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        reason = refusal(actor, permission)
        if reason is not None:
            raise PermissionDenied(reason)
        return actor

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency


AuthenticatedActor = Annotated[Actor, Depends(current_actor)]
