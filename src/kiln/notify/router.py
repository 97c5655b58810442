"""The caller's notifications (list, unread count, mark read) and their settings per kind.

Reading, and marking read, is ``profile:read``: an API key acts for its user and may keep their
inbox. Changing the settings is ``profile:write``, a login session's: a leaked key cannot silence
its owner's alerts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.notify import service
from kiln.notify.schemas import (
    KINDS,
    MarkedRead,
    NotificationRead,
    NotificationSettingRead,
    NotificationSettingUpdate,
    UnreadCount,
)

router = APIRouter(
    prefix="/api/v1", tags=["notifications"], responses=error_responses(400, 401, 403, 404, 422, 429)
)

ProfileRead = Annotated[Actor, Depends(require(Permission.profile_read))]
ProfileWrite = Annotated[Actor, Depends(require(Permission.profile_write))]


@router.get("/notifications", response_model=Page[NotificationRead])
def list_notifications(
    actor: ProfileRead,
    session: SessionDep,
    page: PageQuery,
    unread: Annotated[bool, Query(description="only the unread ones")] = False,
) -> Page[NotificationRead]:
    """The caller's notifications, newest first; follow ``next_cursor`` for older ones."""
    found = service.list_notifications(session, actor, unread_only=unread, page=page)
    return found.with_items([NotificationRead.model_validate(row) for row in found.items])


@router.get("/notifications/unread-count", response_model=UnreadCount)
def unread_count(actor: ProfileRead, session: SessionDep) -> UnreadCount:
    return UnreadCount(unread=service.unread_count(session, actor))


@router.post("/notifications/read-all", response_model=MarkedRead)
def mark_all_read(actor: ProfileRead, session: SessionDep) -> MarkedRead:
    return MarkedRead(marked=service.mark_all_read(session, actor))


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
def mark_read(notification_id: str, actor: ProfileRead, session: SessionDep) -> NotificationRead:
    return NotificationRead.model_validate(service.mark_read(session, actor, notification_id))


@router.get("/me/notification-settings", response_model=list[NotificationSettingRead])
def get_settings(actor: ProfileRead, session: SessionDep) -> list[NotificationSettingRead]:
    """Every notification kind with the channels in effect for the caller."""
    return service.get_settings(session, actor.user_id or "")


@router.put("/me/notification-settings", response_model=list[NotificationSettingRead])
def update_settings(
    changes: Annotated[list[NotificationSettingUpdate], Body(max_length=len(KINDS))],
    actor: ProfileWrite,
    session: SessionDep,
) -> list[NotificationSettingRead]:
    """Set the channels of the kinds given (others keep theirs); answers every kind as now in effect."""
    return service.update_settings(session, actor, changes)
