"""Notifications: sending one to people (in the app and by mail, as each chose), and a user's inbox.

A domain that has news calls ``notify(session, recipients, kind=..., ...)`` in the transaction of the
change it announces. The in-app rows are inserted in that transaction and mail is queued to leave
after it commits: a change that rolls back notifies no one. Who hears about what is the caller's
business (the registry resolves a project's members and approvers through auth and passes them as
``Recipient``s); which channels reach each of them is theirs (``notification_settings``, else the
kind's defaults in ``schemas.KINDS``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import structlog
from sqlalchemy import ColumnElement, CursorResult, Table, func, insert, select, update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import Actor
from kiln.core.db import upsert_rows
from kiln.core.errors import Invalid, NotFound
from kiln.core.ids import new_id, utcnow
from kiln.core.pagination import PageParams
from kiln.core.schemas import Page
from kiln.notify.email import Mail, Mailer
from kiln.notify.models import Notification, NotificationSetting
from kiln.notify.schemas import (
    BODY_LENGTH,
    KINDS,
    LINK_LENGTH,
    TITLE_LENGTH,
    NotificationKind,
    NotificationSettingRead,
    NotificationSettingUpdate,
)

log = structlog.get_logger(__name__)

_NOTIFICATIONS = cast(Table, Notification.__table__)
_SETTINGS = cast(Table, NotificationSetting.__table__)
# Recipients' settings are read in chunks: a project of thousands stays under every driver's limit.
_CHUNK = 500
_BAD_CURSOR = "cursor is not valid; pass the next_cursor of a previous page unchanged"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone to notify, as the caller resolved them (notify cannot look users up: they are auth's)."""

    user_id: str
    email: str | None = None
    name: str = ""


# -- sending --------------------------------------------------------------------------------------


def notify(
    session: Session,
    recipients: Sequence[Recipient],
    *,
    kind: NotificationKind | str,
    title: str,
    body: str = "",
    link: str | None = None,
    project_id: str | None = None,
    exclude_user_id: str | None = None,
    mailer: Mailer,
) -> int:
    """Notify each recipient once, on the channels they have on for ``kind``; returns how many were
    reached (in the app, by mail or both).

    ``link`` is a path inside Kiln (``/models/fraud/versions/3``); mail makes it absolute with the
    server's public URL. ``exclude_user_id`` is usually the actor: nobody is told about their own
    change. Raises ``Invalid`` for an unknown kind, an empty title or a link that leaves Kiln.
    """
    kind = notification_kind(kind)
    title = _one_line(title, TITLE_LENGTH)
    if not title:
        raise Invalid("a notification needs a title")
    body = body.strip()[:BODY_LENGTH]
    link = checked_link(link)
    people: dict[str, Recipient] = {}
    for recipient in recipients:
        if recipient.user_id and recipient.user_id != exclude_user_id:
            people.setdefault(recipient.user_id, recipient)
    if not people:
        return 0
    channels = chosen_channels(session, kind, list(people))
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "user_id": user_id,
            "kind": kind.value,
            "title": title,
            "body": body,
            "link": link,
            "project_id": project_id,
            "created_at": now,
            "read_at": None,
        }
        for user_id in people
        if channels[user_id][0]
    ]
    if rows:
        session.execute(insert(_NOTIFICATIONS), rows)  # one executemany
    mailed = [person for user_id, person in people.items() if channels[user_id][1] and person.email]
    for person in mailed:
        mail = Mail(
            to=person.email or "",
            subject=f"[Kiln] {title}",
            body=_mail_body(person, kind, title, body, link, mailer),
        )
        mailer.queue(session, mail)
    reached = {row["user_id"] for row in rows} | {person.user_id for person in mailed}
    log.info("notify.sent", kind=kind.value, in_app=len(rows), mailed=len(mailed), project_id=project_id)
    return len(reached)


def notification_kind(kind: NotificationKind | str) -> NotificationKind:
    try:
        return NotificationKind(kind)
    except ValueError:
        raise Invalid(
            f"unknown notification kind {kind!r}; use one of: {', '.join(NotificationKind)}"
        ) from None


def checked_link(link: str | None) -> str | None:
    """A notification's link: a path on this server, never another site (it becomes an href)."""
    if not link:
        return None
    parts = urlsplit(link)
    unsafe = (
        len(link) > LINK_LENGTH
        or not link.startswith("/")
        or link.startswith("//")
        or "\\" in link
        or parts.scheme
        or parts.netloc
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in link)
    )
    if unsafe:
        raise Invalid(
            f"a notification link must be a path inside Kiln such as /models/fraud, not {link[:100]!r}"
        )
    return link


def _one_line(text: str, length: int) -> str:
    # A title is also a mail subject: no line breaks (header injection), cut visibly to its column.
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def chosen_channels(
    session: Session, kind: NotificationKind, user_ids: list[str]
) -> dict[str, tuple[bool, bool]]:
    """(in_app, email) per user: their saved choice for ``kind``, else the kind's defaults."""
    spec = KINDS[kind]
    found = dict.fromkeys(user_ids, (spec.in_app, spec.email))
    for start in range(0, len(user_ids), _CHUNK):
        chosen = select(_SETTINGS.c.user_id, _SETTINGS.c.in_app, _SETTINGS.c.email).where(
            _SETTINGS.c.kind == kind.value, _SETTINGS.c.user_id.in_(user_ids[start : start + _CHUNK])
        )
        for user_id, in_app, email in session.execute(chosen):
            found[user_id] = (bool(in_app), bool(email))
    return found


def _mail_body(
    person: Recipient, kind: NotificationKind, title: str, body: str, link: str | None, mailer: Mailer
) -> str:
    lines = [f"Hello {person.name}," if person.name else "Hello,", "", title]
    if body:
        lines += ["", body]
    if link:
        lines += ["", f"Open in Kiln: {mailer.absolute_url(link)}"]
    settings_url = mailer.absolute_url("/profile#notifications")
    lines += [
        "",
        "--",
        f'You get this mail because "{KINDS[kind].label}" is on for email in your notification settings;',
        f"change them at {settings_url}",
    ]
    return "\n".join(lines) + "\n"


# -- the inbox ------------------------------------------------------------------------------------


def _visible(actor: Actor) -> list[ColumnElement[bool]]:
    """The caller's own notifications; a project's API key sees only that project's."""
    conditions = [Notification.user_id == (actor.user_id or "")]
    if actor.project_scoped:
        conditions.append(Notification.project_id == actor.project_id)
    return conditions


def _encode_after(notification_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": notification_id}).encode()).decode().rstrip("=")


def _decode_after(cursor: str | None) -> str | None:
    """A keyset cursor over ids (UUIDv7: unique and time-ordered), in the codec's base64url JSON."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["a"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise Invalid(_BAD_CURSOR) from exc
    if not isinstance(value, str) or not 0 < len(value) <= 36:
        raise Invalid(_BAD_CURSOR)
    return value


def list_notifications(
    session: Session, actor: Actor, *, unread_only: bool = False, page: PageParams
) -> Page[Notification]:
    """The caller's notifications, newest first; notifications arriving meanwhile never shift later pages."""
    statement = select(Notification).where(*_visible(actor))
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    after = _decode_after(page.cursor)
    if after is not None:
        statement = statement.where(Notification.id < after)
    rows = list(session.scalars(statement.order_by(Notification.id.desc()).limit(page.limit + 1)))
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Page(items=rows, next_cursor=_encode_after(rows[-1].id) if more else None)


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the caller's notifications are unread (the bell; one indexed COUNT)."""
    statement = (
        select(func.count()).select_from(Notification).where(*_visible(actor), Notification.read_at.is_(None))
    )
    return int(session.scalar(statement) or 0)


def mark_read(session: Session, actor: Actor, notification_id: str) -> Notification:
    """Mark one of the caller's notifications read (again is fine); someone else's is a 404."""
    found = session.scalar(select(Notification).where(Notification.id == notification_id, *_visible(actor)))
    if found is None:
        raise NotFound(f"notification {notification_id!r} not found")
    if found.read_at is None:
        found.read_at = utcnow()
        session.flush()
    return found


def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every unread notification of the caller read; returns how many were unread."""
    statement = (
        update(Notification)
        .where(*_visible(actor), Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount)


# -- settings -------------------------------------------------------------------------------------


def get_settings(session: Session, user_id: str) -> list[NotificationSettingRead]:
    """Every kind, in the reviewed order, with the channels in effect for the user."""
    chosen = {
        row.kind: (row.in_app, row.email)
        for row in session.scalars(select(NotificationSetting).where(NotificationSetting.user_id == user_id))
    }
    settings = []
    for kind, spec in KINDS.items():
        in_app, email = chosen.get(kind.value, (spec.in_app, spec.email))
        settings.append(
            NotificationSettingRead(
                kind=kind,
                label=spec.label,
                in_app=in_app,
                email=email,
                default_in_app=spec.in_app,
                default_email=spec.email,
            )
        )
    return settings


def update_settings(
    session: Session, actor: Actor, changes: Iterable[NotificationSettingUpdate]
) -> list[NotificationSettingRead]:
    """Set the caller's channels for the kinds given (a channel given as ``None`` keeps its value;
    kinds not given keep theirs). Audited: turning off alerts is a choice someone may need to see."""
    user_id = actor.user_id
    if not user_id:
        raise Invalid("only a user has notification settings")
    current = {setting.kind: setting for setting in get_settings(session, user_id)}
    rows: dict[NotificationKind, dict[str, Any]] = {}
    for change in changes:
        if change.kind in rows:
            raise Invalid(f"notification kind {change.kind.value!r} is given twice; give each kind once")
        was = current[change.kind]
        rows[change.kind] = {
            "user_id": user_id,
            "kind": change.kind.value,
            "in_app": was.in_app if change.in_app is None else change.in_app,
            "email": was.email if change.email is None else change.email,
        }
    if rows:
        upsert_rows(
            session, _SETTINGS, list(rows.values()), key=["user_id", "kind"], update=["in_app", "email"]
        )
        details = {row["kind"]: {"in_app": row["in_app"], "email": row["email"]} for row in rows.values()}
        audit.record(session, actor, "notification_settings.updated", "user", user_id, details)
    return get_settings(session, user_id)
