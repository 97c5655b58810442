"""Notifications sent through ``kiln.notify.service.notify``, as a domain would send them, each in its
own transaction (the one of the change it announces)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from kiln.app import kiln_state
from kiln.notify import service
from kiln.notify.models import Notification
from kiln.notify.schemas import NotificationKind
from kiln.notify.service import Recipient
from tests.builders.auth import Account
from tests.builders.core import database

PROMOTED = NotificationKind.model_version_promoted  # in-app only by default
ROLLED_BACK = NotificationKind.model_version_rolled_back  # in-app and email by default


def recipient(account: Account, name: str = "") -> Recipient:
    return Recipient(user_id=account.id, email=account.email, name=name)


def send(
    app: FastAPI,
    people: Sequence[Account | Recipient],
    *,
    kind: NotificationKind | str = PROMOTED,
    title: str = "fraud_detector v3 is in staging",
    **options: Any,
) -> int:
    """``notify`` to ``people`` in one committed transaction; returns how many were reached."""
    recipients = [person if isinstance(person, Recipient) else recipient(person) for person in people]
    with database(app).unit_of_work() as session:
        return service.notify(
            session, recipients, kind=kind, title=title, mailer=kiln_state(app).mailer, **options
        )


def stored_count(app: FastAPI, user_id: str | None = None) -> int:
    """In-app notifications in the database (for one user, or everyone's)."""
    statement = select(func.count()).select_from(Notification)
    if user_id is not None:
        statement = statement.where(Notification.user_id == user_id)
    with database(app).unit_of_work() as session:
        return int(session.scalar(statement) or 0)
