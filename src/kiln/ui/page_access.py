"""Pages declare their permission as the API's routes do: an ``Annotated`` alias at the top of the module.

``ProjectsAdminForm = Annotated[Actor, Depends(form_require(Permission.projects_admin))]``. An
anonymous visitor is redirected to the login page (``ui_actor``); a form's CSRF token is checked
before anything else (``form_actor``); a user without the permission gets the 403 page. The rule is
the API's: ``Actor.refusal`` over the permissions auth resolved (UI actors are people, so the
API-key rules never bite).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from kiln.core.actor import Actor
from kiln.core.errors import PermissionDenied
from kiln.core.permissions import Permission
from kiln.ui.csrf import form_actor
from kiln.ui.session import ui_actor


def _checked(actor: Actor, permission: Permission) -> Actor:
    reason = actor.refusal(permission)
    if reason is not None:
        raise PermissionDenied(reason)
    return actor


def _permission(permission: Permission) -> Permission:
    if not isinstance(permission, Permission):
        # A plain string would hide the page from everyone; refuse it when the page module loads.
        raise TypeError(f"pages name a kiln.core.permissions.Permission, not {permission!r}")
    return permission


def page_require(permission: Permission) -> Callable[..., Awaitable[Actor]]:
    """A page (GET) for logged-in users holding ``permission``."""
    permission = _permission(permission)

    async def dependency(actor: Annotated[Actor, Depends(ui_actor)]) -> Actor:  # a pure check
        return _checked(actor, permission)

    dependency.__name__ = f"page_require_{permission.name}"
    return dependency


def form_require(permission: Permission) -> Callable[..., Awaitable[Actor]]:
    """A form POST: its CSRF token first, then ``permission``."""
    permission = _permission(permission)

    async def dependency(actor: Annotated[Actor, Depends(form_actor)]) -> Actor:  # a pure check
        return _checked(actor, permission)

    dependency.__name__ = f"form_require_{permission.name}"
    return dependency
