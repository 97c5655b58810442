"""The upgrade from the unkeyed chain: records written before the chain was keyed (scheme ``sha256``)
are re-sealed with the key once, at the first start of a release that keys the chain.

Only a trail made entirely of legacy records that verifies as such is re-keyed. Legacy records after
keyed ones, or a broken legacy chain, are left alone for ``kiln audit verify`` to report: re-sealing
them would launder a forgery. The re-keying is logged and leaves an ``audit.chain_rekeyed`` record.
"""

from __future__ import annotations

import structlog
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from kiln.audit import service
from kiln.audit.chain import chain_hash, legacy_hash, session_key
from kiln.audit.models import GENESIS, KEYED_SCHEME, LEGACY_SCHEME, AuditHead, AuditRecord
from kiln.core.actor import SYSTEM
from kiln.core.db import Database

log = structlog.get_logger(__name__)


class _LegacyChainBroken(Exception):
    def __init__(self, seq: int) -> None:
        super().__init__(f"legacy audit chain broken at record {seq}")
        self.seq = seq


def rekey_legacy_records(db: Database, *, batch: int = 5000) -> int:
    """Re-key the legacy chain in one transaction; returns how many records were re-keyed."""
    try:
        with db.unit_of_work() as session:
            return _rekey(session, batch)
    except _LegacyChainBroken as exc:
        log.error("audit.legacy_chain_not_rekeyed", broken_seq=exc.seq, hint="kiln audit verify")
        return 0


def _rekey(session: Session, batch: int) -> int:
    if not session.scalar(select(exists().where(AuditRecord.scheme == LEGACY_SCHEME))):
        return 0  # the common case: one probe, no lock taken
    # Take the head's lock first, like every append, then look again: another replica may have won.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    if not session.scalar(select(exists().where(AuditRecord.scheme == LEGACY_SCHEME))):
        return 0
    if session.scalar(select(exists().where(AuditRecord.scheme != LEGACY_SCHEME))):
        log.error("audit.legacy_records_after_keyed", hint="not re-keyed; kiln audit verify names the first")
        return 0
    key = session_key(session)
    legacy_prev, keyed_prev, last_seq = GENESIS, GENESIS, 0
    while rows := list(
        session.scalars(
            select(AuditRecord).where(AuditRecord.seq > last_seq).order_by(AuditRecord.seq).limit(batch)
        )
    ):
        changes = []
        for row in rows:
            if row.seq != last_seq + 1 or row.prev_hash != legacy_prev or legacy_hash(row) != row.hash:
                raise _LegacyChainBroken(row.seq)  # the unit of work rolls back what was re-keyed
            # Re-sealed over the fields they were written with (not the later user_id column).
            sealed = chain_hash(row, key, prev_hash=keyed_prev, scheme=KEYED_SCHEME)
            changes.append({"seq": row.seq, "prev_hash": keyed_prev, "hash": sealed, "scheme": KEYED_SCHEME})
            legacy_prev, keyed_prev, last_seq = row.hash, sealed, row.seq
        session.execute(update(AuditRecord), changes)
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is None or head.seq != last_seq or head.last_hash != legacy_prev:
        raise _LegacyChainBroken(last_seq + 1)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=keyed_prev))
    service.record(
        session,
        SYSTEM,
        "audit.chain_rekeyed",
        "audit",
        "chain",
        {"records": last_seq, "legacy_head_hash": legacy_prev},
    )
    log.warning("audit.chain_rekeyed", records=last_seq, legacy_head_hash=legacy_prev)
    return last_seq
