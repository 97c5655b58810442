"""Audit records made through the audit service, and tampering done straight in the database."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, func, select, update

from kiln.audit import service as audit
from kiln.audit.chain import canonical
from kiln.audit.models import GENESIS, AuditHead, AuditRecord
from kiln.core.actor import Actor
from tests.auth.builders import database

ALICE = Actor(kind="user", id="alice-id", name="alice@example.com", role="admin", user_id="alice-id")
BOB = Actor(kind="user", id="bob-id", name="bob@example.com", role="viewer", user_id="bob-id")


def append(app: FastAPI, actor: Actor, action: str, target_id: str = "t-1", **details: Any) -> int:
    """One record in its own transaction (as one request would write it); returns its seq."""
    with database(app).unit_of_work() as session:
        return audit.record(session, actor, action, "thing", target_id, details).seq


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


def last_seq(app: FastAPI) -> int:
    with database(app).unit_of_work() as session:
        return int(session.scalar(select(func.max(AuditRecord.seq))) or 0)
