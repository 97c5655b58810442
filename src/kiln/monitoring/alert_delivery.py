"""Telling a channel about an incident: one delivery job per message, each attempt recorded.

Deliveries are queued in the transaction that opens or resolves the incident (nothing is sent for
an evaluation that rolled back) and run as ``alerts.deliver`` jobs: a failed attempt is recorded
(status, response code, error) in its own unit of work and retried with the queue's backoff. A
target refused by the SSRF check, or a channel without its configuration, fails at once (another
attempt would repeat it).

Webhooks receive JSON signed with HMAC-SHA256 of the exact body under the channel's secret:
``X-Kiln-Signature: sha256=<hex>``, with ``X-Kiln-Event`` and ``X-Kiln-Delivery`` (the same id on
every retry of one message, to deduplicate by); Slack-compatible hooks receive ``{"text": ...}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.auth.projects import project_recipients
from kiln.core.db import Database
from kiln.core.errors import Invalid
from kiln.core.ids import utcnow
from kiln.jobs.queue import enqueue
from kiln.monitoring.alert_models import (
    AlertChannel,
    AlertDelivery,
    AlertDeliveryAttempt,
    AlertIncident,
    AlertRule,
)
from kiln.monitoring.alert_schemas import (
    ChannelKind,
    DeliveryEvent,
    DeliveryStatus,
    IncidentRead,
    format_duration,
)
from kiln.monitoring.alert_settings import WebhookSettings
from kiln.monitoring.alert_targets import resolve_target
from kiln.notify.email import Mail, Mailer
from kiln.notify.schemas import NotificationKind
from kiln.notify.service import Recipient, chosen_channels, notify
from kiln.notify.settings import SmtpSettings

log = structlog.get_logger(__name__)

DELIVER = "alerts.deliver"
SIGNATURE_HEADER = "X-Kiln-Signature"
_ERROR_LENGTH = 500


class DeliveryFailed(Exception):
    """An attempt did not get through; ``permanent`` when another attempt would fail the same way."""

    def __init__(self, message: str, *, response_code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.response_code = response_code
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Message:
    event: DeliveryEvent
    subject: str
    text: str
    payload: dict[str, Any]
    link: str | None = None


# -- queueing -------------------------------------------------------------------------------------


def queue_deliveries(session: Session, rule: AlertRule, incident: AlertIncident, event: DeliveryEvent) -> int:
    """One delivery (and its job) per enabled channel of ``rule``; returns how many."""
    channels = session.scalars(
        select(AlertChannel).where(
            AlertChannel.id.in_(list(rule.channel_ids or [])),
            AlertChannel.project_id == rule.project_id,
            AlertChannel.enabled.is_(True),
        )
    )
    queued = 0
    for channel in channels:
        queue_delivery(session, channel, event, incident_id=incident.id)
        queued += 1
    return queued


def queue_delivery(
    session: Session, channel: AlertChannel, event: DeliveryEvent, *, incident_id: str | None = None
) -> AlertDelivery:
    delivery = AlertDelivery(
        project_id=channel.project_id,
        channel_id=channel.id,
        incident_id=incident_id,
        event=event.value,
        status=DeliveryStatus.pending.value,
        attempts=0,
    )
    session.add(delivery)
    session.flush()
    delivery.job_id = enqueue(session, DELIVER, {"delivery_id": delivery.id}, project_id=channel.project_id)
    return delivery


# -- one attempt ----------------------------------------------------------------------------------


def attempt_delivery(db: Database, delivery_id: str, *, attempt: int, last_attempt: bool) -> str:
    """Make one attempt at a delivery and record it; raises ``DeliveryFailed`` when it failed."""
    with db.unit_of_work() as session:
        delivery = session.get(AlertDelivery, delivery_id)
        if delivery is None or delivery.status == DeliveryStatus.delivered.value:
            return "gone" if delivery is None else "delivered"  # a repeat of a job that already got through
        channel = session.get(AlertChannel, delivery.channel_id)
        assert channel is not None  # deleting a channel deletes its deliveries
        message = _message(session, delivery, channel)
        kind = ChannelKind(channel.kind)
        secret, config = channel.secret, dict(channel.config or {})
        mails = _mails(session, channel, message) if kind is ChannelKind.email else []
        if kind is ChannelKind.in_app:
            # In the app is a row in this database: it happens in this unit of work, or not at all.
            _tell_in_app(session, channel, message)
    code: int | None = None
    error: DeliveryFailed | None = None
    try:
        if kind is ChannelKind.email:
            _send_mails(mails)
        elif kind is ChannelKind.slack:
            code = _post(secret or "", {"text": message.text}, secret=None)
        elif kind is ChannelKind.webhook:
            ids = {"X-Kiln-Event": message.event.value, "X-Kiln-Delivery": delivery_id}
            code = _post(str(config.get("url", "")), message.payload, secret=secret or "", headers=ids)
    except DeliveryFailed as exc:
        error, code = exc, exc.response_code
    final = error is not None and (error.permanent or last_attempt)
    _record(db, delivery_id, attempt=attempt, code=code, error=error, final=final)
    if error is not None:
        raise error
    log.info("alerts.delivered", delivery_id=delivery_id, channel=kind.value, attempt=attempt)
    return "delivered"


def _record(
    db: Database,
    delivery_id: str,
    *,
    attempt: int,
    code: int | None,
    error: DeliveryFailed | None,
    final: bool,
) -> None:
    now = utcnow()
    with db.unit_of_work() as session:
        delivery = session.get(AlertDelivery, delivery_id)
        if delivery is None:
            return
        session.add(
            AlertDeliveryAttempt(
                delivery_id=delivery_id,
                number=attempt,
                at=now,
                status="failed" if error else "ok",
                response_code=code,
                error=str(error)[:_ERROR_LENGTH] if error else None,
            )
        )
        delivery.attempts = max(delivery.attempts, attempt)
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = (
                DeliveryStatus.delivered.value,
                now,
                None,
            )
        else:
            delivery.last_error = str(error)[:_ERROR_LENGTH]
            delivery.status = DeliveryStatus.failed.value if final else DeliveryStatus.pending.value


# -- messages -------------------------------------------------------------------------------------


def _message(session: Session, delivery: AlertDelivery, channel: AlertChannel) -> Message:
    event = DeliveryEvent(delivery.event)
    incident = session.get(AlertIncident, delivery.incident_id) if delivery.incident_id else None
    if incident is None:
        text = f"Test alert from Kiln: channel {channel.name!r} works."
        return Message(
            event, f"[Kiln] Test alert for channel {channel.name}", text, {"event": event.value, "text": text}
        )
    condition = (
        f"{incident.metric} {incident.comparison} {incident.threshold:g} "
        f"for {format_duration(incident.duration_seconds)}"
    )
    if event is DeliveryEvent.resolved:
        subject = f"[Kiln] RESOLVED {incident.rule_name} on {incident.deployment}"
        value = incident.resolved_value
        text = (
            f"Resolved: {incident.rule_name} on deployment {incident.deployment} ({condition}) "
            "is back to normal"
        )
    else:
        subject = f"[Kiln] FIRING {incident.rule_name} on {incident.deployment}"
        value = incident.value
        text = f"Firing: {incident.rule_name} on deployment {incident.deployment}: {condition}"
    text += f"; {incident.metric} is {value:g}." if value is not None else "."
    payload = {
        "event": event.value,
        "text": text,
        "incident": IncidentRead.model_validate(incident).model_dump(mode="json"),
    }
    return Message(event, subject, text, payload, link=f"/deployments/{quote(incident.deployment, safe='')}")


def _notification_kind(message: Message) -> NotificationKind:
    return (
        NotificationKind.alert_resolved
        if message.event is DeliveryEvent.resolved
        else NotificationKind.alert_firing
    )


def _members(session: Session, project_id: str) -> list[Recipient]:
    return project_recipients(session, project_id)


def _mails(session: Session, channel: AlertChannel, message: Message) -> list[Mail]:
    """The channel's addresses, or the project's members who keep this kind on for email."""
    addresses = list((channel.config or {}).get("to", []))
    if not addresses:
        members = _members(session, channel.project_id)
        choices = chosen_channels(
            session, _notification_kind(message), [member.user_id for member in members]
        )
        addresses = [member.email for member in members if member.email and choices[member.user_id][1]]
    body = message.text + "\n\n--\nSent by Kiln for alert channel " + channel.name + ".\n"
    return [Mail(to=address, subject=message.subject, body=body) for address in addresses]


def _send_mails(mails: list[Mail]) -> None:
    mailer = Mailer(SmtpSettings())
    if not mailer.settings.host:
        raise DeliveryFailed("no SMTP server is configured (KILN_SMTP_HOST)", permanent=True)
    for mail in mails:
        try:
            mailer.send_now(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"mail to {mail.to} was not sent: {exc}") from exc


def _tell_in_app(session: Session, channel: AlertChannel, message: Message) -> None:
    # Recipients without addresses: this channel is the app only (mail is the email channel's).
    people = [
        Recipient(user_id=member.user_id, name=member.name)
        for member in _members(session, channel.project_id)
    ]
    notify(
        session,
        people,
        kind=_notification_kind(message),
        title=message.subject.removeprefix("[Kiln] "),
        body=message.text,
        link=message.link,
        project_id=channel.project_id,
        mailer=Mailer(SmtpSettings()),
    )


def signature(secret: str, body: bytes) -> str:
    """The ``X-Kiln-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(
    url: str, payload: dict[str, Any], *, secret: str | None, headers: dict[str, str] | None = None
) -> int:
    settings = WebhookSettings()
    try:
        target = resolve_target(url, allow_private=settings.allow_private)
    except Invalid as exc:
        raise DeliveryFailed(f"target refused: {exc.message}", permanent=True) from None
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        **(headers or {}),
        "Content-Type": "application/json",
        "User-Agent": "Kiln-Alerts",
        "Host": _host_header(target.url),
    }
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    extensions = {"sni_hostname": target.host} if target.url.startswith("https") else {}
    try:
        with httpx.Client(timeout=settings.timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(target.pinned_url, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{target.host}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(
            f"{target.host} answered {response.status_code}: {response.text[:200]}",
            response_code=response.status_code,
        )
    return response.status_code


def _host_header(url: str) -> str:
    return urlsplit(url).netloc
