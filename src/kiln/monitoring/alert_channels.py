"""Alert channels of a project: where incidents are told (mail, Slack, a signed webhook, the app).

Creating, changing and deleting a channel is audited (without its secret). Webhook and Slack URLs
are checked when saved (``alert_targets``) and again at each delivery.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import get_in_project, require_project, resolve_project, scoped
from kiln.core.actor import Actor
from kiln.core.errors import Conflict, Invalid
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.monitoring.alert_models import AlertChannel
from kiln.monitoring.alert_schemas import (
    AlertChannelCreate,
    AlertChannelRead,
    AlertChannelUpdate,
    ChannelKind,
)
from kiln.monitoring.alert_settings import WebhookSettings
from kiln.monitoring.alert_targets import resolve_target


def channel_read(channel: AlertChannel) -> AlertChannelRead:
    config = channel.config or {}
    url: str | None = None
    if channel.kind == ChannelKind.webhook.value:
        url = config.get("url")
    elif channel.kind == ChannelKind.slack.value:
        url = f"https://{config.get('host', '')}/…"  # the path of a Slack URL is its token
    return AlertChannelRead(
        id=channel.id,
        project_id=channel.project_id,
        name=channel.name,
        kind=ChannelKind(channel.kind),
        url=url,
        to=list(config.get("to", [])),
        has_secret=bool(channel.secret),
        enabled=channel.enabled,
        created_by=channel.created_by,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _checked_url(url: str | None, kind: ChannelKind) -> str:
    if not url:
        raise Invalid(f"a {kind.value} channel needs a url", details={"field": "url"})
    return resolve_target(url, allow_private=WebhookSettings().allow_private).url


def _settle(
    kind: ChannelKind, *, url: str | None, secret: str | None, to: list[str]
) -> tuple[dict[str, Any], str | None]:
    """The stored config and secret of a channel of ``kind``; ``Invalid`` naming a misplaced field."""
    if kind is not ChannelKind.email and to:
        raise Invalid(f"`to` is for email channels, not {kind.value}", details={"field": "to"})
    if kind in (ChannelKind.email, ChannelKind.in_app):
        if url or secret:
            raise Invalid(f"a {kind.value} channel takes no url or secret", details={"field": "url"})
        return ({"to": sorted(set(to))} if kind is ChannelKind.email else {}), None
    if kind is ChannelKind.slack and secret:
        raise Invalid(
            "a slack channel's url is its secret; give no separate secret", details={"field": "secret"}
        )
    if kind is ChannelKind.webhook and not secret:
        raise Invalid(
            "a webhook channel needs a secret (16 to 256 characters) to sign each request with",
            details={"field": "secret"},
        )
    checked = _checked_url(url, kind)
    if kind is ChannelKind.slack:
        return {"host": urlsplit(checked).hostname or ""}, checked
    return {"url": checked}, secret


def create_channel(session: Session, actor: Actor, data: AlertChannelCreate) -> AlertChannel:
    project = resolve_project(session, actor, data.project, Permission.alerts_write)
    config, secret = _settle(data.kind, url=data.url, secret=data.secret, to=list(data.to))
    if find_channel(session, project.id, data.name) is not None:
        raise Conflict(f"channel {data.name!r} exists in this project; choose another name")
    channel = AlertChannel(
        project_id=project.id,
        name=data.name,
        kind=data.kind.value,
        config=config,
        secret=secret,
        enabled=data.enabled,
        created_by=actor.label_within(256),
    )
    session.add(channel)
    flush_unique(session, f"channel {data.name!r}")
    audit.record(session, actor, "alert_channel.created", "alert_channel", channel.id, _described(channel))
    return channel


def update_channel(session: Session, actor: Actor, channel_id: str, data: AlertChannelUpdate) -> AlertChannel:
    channel = get_channel(session, actor, channel_id, Permission.alerts_write)
    kind = ChannelKind(channel.kind)
    before = _described(channel)
    if data.name is not None and data.name != channel.name:
        if find_channel(session, channel.project_id, data.name) is not None:
            raise Conflict(f"channel {data.name!r} exists in this project; choose another name")
        channel.name = data.name
    if data.url is not None or data.secret is not None or data.to is not None:
        url = data.url
        if url is None and kind is ChannelKind.webhook:
            url = channel.config.get("url")
        elif url is None and kind is ChannelKind.slack:
            url = channel.secret
        secret = (
            data.secret
            if data.secret is not None
            else (channel.secret if kind is ChannelKind.webhook else None)
        )
        to = list(data.to) if data.to is not None else list(channel.config.get("to", []))
        channel.config, channel.secret = _settle(kind, url=url, secret=secret, to=to)
    if data.enabled is not None:
        channel.enabled = data.enabled
    flush_unique(session, f"channel {channel.name!r}")
    details = {"before": before, "after": _described(channel), "secret_changed": data.secret is not None}
    audit.record(session, actor, "alert_channel.updated", "alert_channel", channel.id, details)
    return channel


def delete_channel(session: Session, actor: Actor, channel_id: str) -> None:
    channel = get_channel(session, actor, channel_id, Permission.alerts_write)
    audit.record(session, actor, "alert_channel.deleted", "alert_channel", channel.id, _described(channel))
    session.delete(channel)
    session.flush()


def get_channel(
    session: Session, actor: Actor, channel_id: str, permission: Permission = Permission.alerts_read
) -> AlertChannel:
    return get_in_project(
        session, actor, AlertChannel, channel_id, permission, hide_as=f"channel {channel_id!r}"
    )


def find_channel(session: Session, project_id: str, name: str) -> AlertChannel | None:
    return session.scalar(
        select(AlertChannel).where(AlertChannel.project_id == project_id, AlertChannel.name == name)
    )


def list_channels(
    session: Session, actor: Actor, page: PageParams, *, project: str | None = None
) -> Page[AlertChannel]:
    statement = scoped(session, actor, select(AlertChannel), AlertChannel.project_id)
    if project is not None:
        found = resolve_project(session, actor, project, Permission.alerts_read)
        statement = statement.where(AlertChannel.project_id == found.id)
    return paginate(session, statement.order_by(AlertChannel.name, AlertChannel.id), page)


def channel_ids(session: Session, actor: Actor, project_id: str, refs: list[str]) -> list[str]:
    """The ids of the channels ``refs`` (names or ids) in the project; ``Invalid`` naming one missing."""
    require_project(session, actor, project_id, Permission.alerts_write)
    ids: list[str] = []
    for ref in dict.fromkeys(refs):
        channel = session.get(AlertChannel, ref)
        if channel is None or channel.project_id != project_id:
            channel = find_channel(session, project_id, ref)
        if channel is None:
            raise Invalid(
                f"channel {ref!r} is not a channel of this project; "
                "create it first (POST /api/v1/alerts/channels)",
                details={"field": "channels"},
            )
        ids.append(channel.id)
    return ids


def _described(channel: AlertChannel) -> dict[str, Any]:
    read = channel_read(channel)
    return {
        "name": read.name,
        "kind": read.kind.value,
        "url": read.url,
        "to": read.to,
        "enabled": read.enabled,
    }


def flush_unique(session: Session, what: str) -> None:
    """Flush a new or renamed row whose name is unique in its project: a race on the name is a 409."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} exists in this project; choose another name") from exc
