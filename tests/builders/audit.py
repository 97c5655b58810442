"""Audit records written through ``kiln.audit.service``, and read back in chain order.

Tampering with stored records (what the chain must detect) is in tests/audit/builders.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from kiln.audit import service as audit
from kiln.audit.models import AuditRecord
from kiln.core.actor import Actor
from tests.builders.core import database

ALICE = Actor(kind="user", id="alice-id", name="alice@example.com", role="admin", user_id="alice-id")
BOB = Actor(kind="user", id="bob-id", name="bob@example.com", role="viewer", user_id="bob-id")


def append(app: FastAPI, actor: Actor, action: str, target_id: str = "t-1", **details: Any) -> int:
    """One record in its own transaction (as one request would write it); returns its seq."""
    with database(app).unit_of_work() as session:
        return audit.record(session, actor, action, "thing", target_id, details).seq


def audit_records(app: FastAPI) -> list[AuditRecord]:
    with database(app).unit_of_work() as session:
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
