"""What every page's template knows about the visitor: who is logged in, what they may do, the CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.ui.csrf import token_for_page


def page_context(request: Request) -> dict[str, Any]:
    actor = getattr(request.state, "actor", None)
    user = actor if isinstance(actor, Actor) else None

    def can(permission: str | None) -> bool:
        """Pages hide what the user may not do; the services refuse it anyway.

        Templates name a permission by its value (``can("projects:admin")``): a misspelt one fails
        the page loudly (``Permission(...)`` raises) instead of hiding a button from everyone.
        """
        if permission is None:
            return user is not None
        return user is not None and user.may(Permission(permission))

    return {"current_user": user, "csrf_token": token_for_page(request), "can": can}
