"""The in-app inbox (``notifications``) and each user's channel choices per kind (``notification_settings``).

Users and projects are auth's tables: referenced here by foreign key name only, never imported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin
from kiln.core.ids import utcnow
from kiln.notify.schemas import LINK_LENGTH, TITLE_LENGTH


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    # The bell counts a user's unread rows on every page: (user_id, read_at IS NULL) is its index scan.
    __table_args__ = (Index("ix_notifications_inbox", "user_id", "read_at", "created_at"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(LINK_LENGTH))
    # A notification about a project goes with it.
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class NotificationSetting(Base):
    """A user's choice for one kind; no row means the kind's defaults (``schemas.KINDS``)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[bool] = mapped_column(Boolean)
