"""Audit records form a keyed hash chain (HMAC-SHA256); ``audit_head`` serialises appends so the
chain never forks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, JSONType

GENESIS = "0" * 64
# How a record's ``hash`` was made. Records written before the chain was keyed carry the legacy
# scheme (the column's server default fills it in for them); the app re-keys them once at start.
# ``hmac-sha256`` records were sealed before records named the acting user (``user_id``): their seal
# does not cover it. Every record written now is ``hmac-sha256-v2``, whose seal does.
KEYED_SCHEME = "hmac-sha256"
USER_SCHEME = "hmac-sha256-v2"
LEGACY_SCHEME = "sha256"
SEALED_SCHEMES = frozenset({KEYED_SCHEME, USER_SCHEME})


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_actor", "actor_id", "at"),
        Index("ix_audit_records_target", "target_type", "target_id"),
        Index("ix_audit_records_action_at", "action", "at"),
        Index("ix_audit_records_user", "user_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(320))
    # The person behind the action: the user themselves, or the owner of the API key that acted
    # (``None`` for the system and anonymous callers). An admin's view of a user's activity uses it.
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(256))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    scheme: Mapped[str] = mapped_column(String(16), default=USER_SCHEME, server_default=LEGACY_SCHEME)


class AuditHead(Base):
    """One row: the last sequence number and hash. Updating it first takes the write lock."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
