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
    # The last record that verified; record ``head_seq:head_hash`` elsewhere and pass it back as
    # ``expect_head`` to prove the trail was not rewritten since.
    head_seq: int
    head_hash: str
