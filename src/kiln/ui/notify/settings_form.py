"""The notification settings card on the profile page: every kind, with an in-app and an email box.

``profile_card`` is what the profile page (``ui/auth/account_pages.py``) puts in its context; the
form posts here. Every kind is in the form, so an unticked box turns that channel off.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.permissions import Permission
from kiln.notify import service as notifications
from kiln.notify.schemas import KINDS, NotificationSettingRead, NotificationSettingUpdate
from kiln.ui.csrf import FormDep
from kiln.ui.forms import NOTICES
from kiln.ui.page_access import form_require
from kiln.ui.page_route import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SettingsForm = Annotated[Actor, Depends(form_require(Permission.profile_write))]


def profile_card(session: Session, user_id: str) -> list[NotificationSettingRead]:
    """The rows of the settings table, in the reviewed order of the kinds."""
    return notifications.get_settings(session, user_id)


@router.post("/profile/notifications")
def save_settings(request: Request, actor: SettingsForm, form: FormDep) -> Response:
    changes = [
        NotificationSettingUpdate(kind=kind, in_app=f"in_app:{kind}" in form, email=f"email:{kind}" in form)
        for kind in KINDS
    ]
    with get_db(request).unit_of_work() as session:
        notifications.update_settings(session, actor, changes)
    assert "notification_settings_saved" in NOTICES
    # Back to the card itself: the fragment goes after the notice's query.
    return RedirectResponse("/profile?notice=notification_settings_saved#notifications", status_code=303)
