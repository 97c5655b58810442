"""The notification settings page: what reaches the user (in Kiln, by email, per kind), and, for
those who may read alerts, their projects' alert channels (Slack, signed webhook, email, in-app)
with a form to add one and a switch to enable or disable each.

Everything goes through ``notify.service`` and ``monitoring.alert_channels``, so a webhook or
Slack URL is checked against server-side request forgery exactly as on the API: a loopback or
private target is refused with the service's message on the form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from kiln.auth import projects
from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.pagination import MAX_LIMIT, PageParams
from kiln.core.permissions import Permission
from kiln.monitoring import alert_channels
from kiln.monitoring.alert_schemas import (
    AlertChannelCreate,
    AlertChannelRead,
    AlertChannelUpdate,
    ChannelKind,
)
from kiln.notify import service as notifications
from kiln.notify.schemas import KINDS, NotificationSettingUpdate
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.monitoring.page_params import AlertsForm
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SettingsPage = Annotated[Actor, Depends(page_require(Permission.profile_read))]
SettingsForm = Annotated[Actor, Depends(form_require(Permission.profile_write))]
HREF = "/settings/notifications"
CHANNEL_FIELDS = ("project", "name", "kind", "url", "to")


def render_settings(
    request: Request,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    error: FormError | None = None,
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        settings = notifications.get_settings(session, actor.id)
        channels: list[AlertChannelRead] = []
        project_names: dict[str, str] = {}
        if actor.may(Permission.alerts_read):
            found = alert_channels.list_channels(session, actor, PageParams(limit=MAX_LIMIT)).items
            channels = [alert_channels.channel_read(channel) for channel in found]
            project_names = {item.id: item.name for item in projects.list_projects(session, actor).items}
    return render(
        request,
        "monitoring/notification_settings.html",
        {
            "section": "notification-settings",
            "settings": settings,
            "channels": channels,
            "project_names": project_names,
            "kinds": [kind.value for kind in ChannelKind],
            "can_read_channels": actor.may(Permission.alerts_read),
            "can_write_channels": actor.may(Permission.alerts_write),
            "values": values or {"kind": ChannelKind.slack.value},
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get(HREF, response_class=HTMLResponse)
def settings_page(request: Request, actor: SettingsPage) -> HTMLResponse:
    return render_settings(request, actor)


@router.post(HREF)
def save_settings(request: Request, actor: SettingsForm, form: FormDep) -> Response:
    """Every kind is in the form, so an unticked box turns that channel off."""
    changes = [
        NotificationSettingUpdate(kind=kind, in_app=f"in_app:{kind}" in form, email=f"email:{kind}" in form)
        for kind in KINDS
    ]
    with get_db(request).unit_of_work() as session:
        notifications.update_settings(session, actor, changes)
    return redirect_with_notice(HREF, "notification_settings_saved")


def _channel_create(form: FormData) -> AlertChannelCreate:
    recipients = [item.strip() for item in field(form, "to", limit=5000).split(",") if item.strip()]
    return AlertChannelCreate.model_validate(
        {
            "project": field(form, "project", limit=200) or None,
            "name": field(form, "name", limit=200),
            "kind": field(form, "kind", limit=16),
            "url": field(form, "url", limit=2000) or None,
            # Secrets are not stripped or echoed back into the form.
            "secret": (form.get("secret") if isinstance(form.get("secret"), str) else None) or None,
            "to": recipients,
        }
    )


@router.post(f"{HREF}/channels")
def create_channel(request: Request, actor: AlertsForm, form: FormDep) -> Response:
    values = {name: field(form, name, limit=2000) for name in CHANNEL_FIELDS}
    try:
        data = _channel_create(form)
        with get_db(request).unit_of_work() as session:
            alert_channels.create_channel(session, actor, data)
    except (KilnError, ValidationError) as exc:
        return render_settings(request, actor, values=values, error=form_error(exc))
    return redirect_with_notice(f"{HREF}#channels", "channel_created")


@router.post(HREF + "/channels/{channel_id}/enabled")
def set_channel_enabled(
    request: Request, actor: AlertsForm, form: FormDep, channel_id: Annotated[str, Path(max_length=36)]
) -> Response:
    enabled = field(form, "enabled", limit=1) == "1"
    try:
        with get_db(request).unit_of_work() as session:
            alert_channels.update_channel(session, actor, channel_id, AlertChannelUpdate(enabled=enabled))
    except KilnError as exc:
        return render_settings(request, actor, error=form_error(exc))
    return redirect_with_notice(HREF, "channel_enabled" if enabled else "channel_disabled")
