"""Time-ordered ids (UUIDv7) and UTC time: the only clock and id source in Kiln."""

from __future__ import annotations

from datetime import UTC, datetime

from uuid6 import uuid7


def new_id() -> str:
    return str(uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Treat naive datetimes (as SQLite returns them) as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def from_millis(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_millis(value: datetime) -> int:
    return int(ensure_utc(value).timestamp() * 1000)
