"""Tampering done straight in the database, behind the audit service's back, on purpose: what someone
with database access could do, and what the chain must detect. Records made the honest way (through
the audit service) are built by tests/builders/audit.py."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, select, update

from kiln.audit.chain import canonical
from kiln.audit.models import GENESIS, AuditHead, AuditRecord
from tests.builders.core import database


def tamper(app: FastAPI, seq: int, **values: Any) -> None:
    """Change a stored record behind the application's back."""
    with database(app).unit_of_work() as session:
        result = session.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(**values))
        assert result.rowcount == 1  # type: ignore[attr-defined]


def reseal_unkeyed(app: FastAPI, *, start: int = 1, scheme: str | None = None) -> None:
    """Recompute links and plain sha256 hashes from ``start`` on, and the head: what someone with
    database access but without the audit key can do after editing a record."""
    with database(app).unit_of_work() as session:
        records = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        prev = GENESIS
        for entry in records:
            if entry.seq >= start:
                entry.prev_hash = prev
                entry.scheme = scheme or entry.scheme  # a legacy record never sealed the later user_id
                entry.hash = hashlib.sha256(canonical(entry)).hexdigest()
            prev = entry.hash
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev))


def wipe(app: FastAPI, *, records: bool = True) -> None:
    """Delete the head row, and (by default) every record."""
    with database(app).unit_of_work() as session:
        if records:
            session.execute(delete(AuditRecord))
        session.execute(delete(AuditHead))


def remove(app: FastAPI, seq: int) -> None:
    with database(app).unit_of_work() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == seq))
