"""Page: the logged-in user's notifications, newest first (unread ones marked), and marking them read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.pagination import MAX_CURSOR_LENGTH, PageParams
from kiln.core.permissions import Permission
from kiln.notify import service as notifications
from kiln.notify.schemas import KINDS, NotificationRead
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import notice, redirect_with_notice
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

InboxPage = Annotated[Actor, Depends(page_require(Permission.profile_read))]
InboxForm = Annotated[Actor, Depends(form_require(Permission.profile_read))]
PAGE_SIZE = 50


def _back(form_value: str) -> str:
    # The forms say which view they came from; only these two are ever redirected to.
    return "/notifications?unread=1" if form_value == "1" else "/notifications"


@router.get("/notifications")
def inbox(
    request: Request,
    actor: InboxPage,
    unread: bool = False,
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> Response:
    page = PageParams(limit=PAGE_SIZE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        found = notifications.list_notifications(session, actor, unread_only=unread, page=page)
        items = [NotificationRead.model_validate(row) for row in found.items]
    only_unread = "1" if unread else None
    return render(
        request,
        "notify/notifications.html",
        {
            "section": "notifications",
            "items": items,
            "labels": {kind: spec.label for kind, spec in KINDS.items()},
            "unread_only": unread,
            "notice": notice(request),
            "paged": page.cursor is not None,
            "first_href": url_with("/notifications", unread=only_unread),
            "next_href": url_with("/notifications", unread=only_unread, cursor=found.next_cursor)
            if found.next_cursor
            else None,
        },
    )


@router.post("/notifications/read-all")
def mark_all_read(request: Request, actor: InboxForm, form: FormDep) -> Response:
    with get_db(request).unit_of_work() as session:
        notifications.mark_all_read(session, actor)
    return redirect_with_notice(_back(field(form, "unread", limit=1)), "notifications_read")


@router.post("/notifications/{notification_id}/read")
def mark_read(request: Request, notification_id: str, actor: InboxForm, form: FormDep) -> Response:
    with get_db(request).unit_of_work() as session:
        notifications.mark_read(session, actor, notification_id)
    return RedirectResponse(_back(field(form, "unread", limit=1)), status_code=303)
