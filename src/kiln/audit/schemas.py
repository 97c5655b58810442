"""Audit I/O schemas (read only: the API has no way to change a record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiln.core.schemas import ReadSchema


class AuditRecordRead(ReadSchema):
    seq: int
    at: datetime
    actor_kind: str
    actor_id: str
    actor_name: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    request_id: str
    hash: str


class ChainVerification(ReadSchema):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str
