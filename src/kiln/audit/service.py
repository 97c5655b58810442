"""Append to, list and export the audit trail (``chain.py`` seals and verifies it). There is no
update and no delete."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, cast

import structlog
from sqlalchemy import Select, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from kiln.audit.chain import chain_hash, session_key
from kiln.audit.models import GENESIS, USER_SCHEME, AuditHead, AuditRecord
from kiln.audit.schemas import AuditFilter
from kiln.core.actor import Actor
from kiln.core.ids import ensure_utc, utcnow
from kiln.core.pagination import MAX_KEY, Page, PageParams, decode_keyset, encode_keyset

CSV_FIELDS = (
    "seq",
    "at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "user_id",
    "action",
    "target_type",
    "target_id",
    "details",
    "request_id",
    "hash",
)


def _json_safe(details: dict[str, Any]) -> dict[str, Any]:
    # Details must hash the same after a JSON round trip through the database.
    parsed: dict[str, Any] = json.loads(json.dumps(details, default=str))
    return parsed


ACTOR_NAME_LENGTH = 320  # the column's length


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record in the caller's transaction, so it exists exactly when the change does.

    Three prepared Core statements, no ORM flush: bumping the head row first takes its lock, which
    serialises appends so the chain never forks; RETURNING hands back the seq and previous hash.
    """
    connection = session.connection()
    head = connection.execute(_BUMP_HEAD).first()
    if head is None:  # the very first record
        connection.execute(_CREATE_HEAD)
        seq, prev_hash = 1, GENESIS
    else:
        seq, prev_hash = head.seq, head.last_hash
    request_id = structlog.contextvars.get_contextvars().get("request_id", "")
    entry = AuditRecord(
        seq=seq,
        at=utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.label_within(ACTOR_NAME_LENGTH),
        # The person answerable for the action: the user, or the owner of the key that acted.
        user_id=actor.user_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=_json_safe(details or {}),
        request_id=str(request_id),
        prev_hash=prev_hash,
        scheme=USER_SCHEME,  # set now: the seal below depends on it
    )
    entry.hash = chain_hash(entry, session_key(session))
    connection.execute(_INSERT_RECORD, {column: getattr(entry, column) for column in _COLUMNS})
    connection.execute(_SEAL_HEAD, {"last_hash": entry.hash})
    return entry


# Built once: constructing a statement costs more than running it on this path.
_HEAD = cast(Table, AuditHead.__table__)
_BUMP_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.seq, _HEAD.c.last_hash)
)
_CREATE_HEAD = insert(_HEAD).values(id=1, seq=1, last_hash=GENESIS)
_SEAL_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=bindparam("last_hash"))
_INSERT_RECORD = insert(cast(Table, AuditRecord.__table__))
_COLUMNS = tuple(column.key for column in AuditRecord.__table__.columns)


# Sequence numbers are 64-bit in the database; a larger ``before_seq`` would overflow the driver.
MAX_SEQ = MAX_KEY


def _filtered(query: AuditFilter) -> Select[AuditRecord]:
    statement = select(AuditRecord)
    if query.actor_id:
        statement = statement.where(AuditRecord.actor_id == query.actor_id)
    if query.user_id:
        statement = statement.where(AuditRecord.user_id == query.user_id)
    if query.action:
        statement = statement.where(AuditRecord.action == query.action)
    if query.target_type:
        statement = statement.where(AuditRecord.target_type == query.target_type)
    if query.target_id:
        statement = statement.where(AuditRecord.target_id == query.target_id)
    if query.since:
        statement = statement.where(AuditRecord.at >= query.since)
    if query.until:
        statement = statement.where(AuditRecord.at < query.until)
    return statement


def _newest_first(session: Session, statement: Select[AuditRecord], page: PageParams) -> Page[AuditRecord]:
    """A keyset page by ``seq``: records appended meanwhile never shift the later pages."""
    before = decode_keyset(page.cursor)
    if before is not None:
        statement = statement.where(AuditRecord.seq < before)
    rows = list(session.scalars(statement.order_by(AuditRecord.seq.desc()).limit(page.limit + 1)))
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Page(items=rows, next_cursor=encode_keyset(rows[-1].seq) if more else None)


def list_records(session: Session, query: AuditFilter, page: PageParams) -> Page[AuditRecord]:
    """Matching records, newest first."""
    return _newest_first(session, _filtered(query), page)


def user_activity(session: Session, user_id: str, page: PageParams) -> Page[AuditRecord]:
    """What a user did (themselves or with any of their API keys) and what was done to their
    account, newest first: the API's and the UI's view of one user's activity."""
    by_or_to = or_(
        AuditRecord.user_id == user_id,
        and_(AuditRecord.target_type == "user", AuditRecord.target_id == user_id),
    )
    return _newest_first(session, select(AuditRecord).where(by_or_to), page)


def _row(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": ensure_utc(record.at).isoformat(),
        "actor_kind": record.actor_kind,
        "actor_id": record.actor_id,
        "actor_name": record.actor_name,
        "user_id": record.user_id,
        "action": record.action,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "details": record.details,
        "request_id": record.request_id,
        "hash": record.hash,
    }


def export_records(session: Session, query: AuditFilter, *, fmt: str) -> Iterator[str]:
    """Stream matching records oldest first as JSON lines or CSV, a page at a time."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
        writer.writeheader()
        yield buffer.getvalue()
    after = 0
    while True:
        page = list(
            session.scalars(
                _filtered(query).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(2000)
            )
        )
        if not page:
            return
        for entry in page:
            row = _row(entry)
            if fmt == "csv":
                buffer = io.StringIO()
                details = json.dumps(row["details"], sort_keys=True)
                csv.DictWriter(buffer, fieldnames=CSV_FIELDS).writerow({**row, "details": details})
                yield buffer.getvalue()
            else:
                yield json.dumps(row, sort_keys=True) + "\n"
        after = page[-1].seq
