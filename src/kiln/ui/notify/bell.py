"""The bell in the header: the logged-in user's unread count, one indexed COUNT per page rendered.

A template global (``unread_notifications()``, installed by ``ui/router.py``) rather than part of
every page's context, so only a page that draws the header for a logged-in user pays for the query.
"""

from __future__ import annotations

from typing import Any

import structlog
from jinja2 import pass_context
from sqlalchemy.exc import SQLAlchemyError

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.notify import service as notifications

log = structlog.get_logger("kiln.ui")


@pass_context
def unread_notifications(context: Any) -> int:
    actor, request = context.get("current_user"), context.get("request")
    if not isinstance(actor, Actor) or request is None:
        return 0
    try:
        with get_db(request).unit_of_work() as session:
            return notifications.unread_count(session, actor)
    except SQLAlchemyError as exc:
        # The error page of a database outage draws the header too: it must still render.
        log.warning("ui.unread_count_failed", error=type(exc).__name__)
        return 0
