"""The audit chain's seal: HMAC-SHA256 under a key kept outside the database, verification, and the
one-time re-keying of legacy records lives in ``rekey.py``.

Each record's ``hash`` is ``HMAC(key, canonical bytes)``, and the canonical bytes include the previous
record's hash. Someone who can write to the database but does not hold the key can neither edit a
record nor re-seal the chain after the edit; deleting every record is caught as an empty trail on an
install that has accounts.

The record's ``scheme`` says which fields are sealed: ``hmac-sha256-v2`` (every record written now)
seals the acting user (``user_id``) too; ``hmac-sha256`` records, sealed before that column existed,
keep verifying as they were (their ``user_id`` was backfilled from the sealed ``actor_id`` and the
key's owner, and is not covered by their seal).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from sqlalchemy import column, exists, func, select, table
from sqlalchemy.orm import Session

from kiln.audit.models import GENESIS, SEALED_SCHEMES, USER_SCHEME, AuditHead, AuditRecord
from kiln.audit.schemas import ChainVerification
from kiln.core.db import Database
from kiln.core.ids import ensure_utc
from kiln.core.security import resolve_audit_key
from kiln.core.settings import get_settings

_KEY_INFO = "kiln.audit_key"
# Every account is created by an audited action, so accounts without records mean records were
# deleted. The audit domain sits below auth: it names the table without importing auth's models.
_USERS = table("users", column("id"))


def canonical(record: AuditRecord, *, prev_hash: str | None = None, scheme: str | None = None) -> bytes:
    """The exact bytes that are sealed under ``scheme`` (default: the record's own): sorted keys, no
    whitespace, UTC ISO time."""
    body: dict[str, object] = {
        "seq": record.seq,
        "at": ensure_utc(record.at).isoformat(),
        "actor_kind": record.actor_kind,
        "actor_id": record.actor_id,
        "actor_name": record.actor_name,
        "action": record.action,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "details": record.details,
        "request_id": record.request_id,
        "prev_hash": record.prev_hash if prev_hash is None else prev_hash,
    }
    if (scheme or record.scheme) == USER_SCHEME:
        body["user_id"] = record.user_id
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def chain_hash(
    record: AuditRecord, key: bytes, *, prev_hash: str | None = None, scheme: str | None = None
) -> str:
    sealed = canonical(record, prev_hash=prev_hash, scheme=scheme)
    return hmac.new(key, sealed, hashlib.sha256).hexdigest()


def legacy_hash(record: AuditRecord) -> str:
    """The unkeyed sha256 of records written before the chain was keyed (checked only to re-key them)."""
    return hashlib.sha256(canonical(record)).hexdigest()


def bind_audit_key(db: Database, key: str) -> None:
    """Every session of ``db`` seals and verifies records with ``key``."""
    db.sessionmaker.configure(info={_KEY_INFO: key.encode()})


def session_key(session: Session) -> bytes:
    """The key bound to the session's database, or (operator commands that open their own database)
    the one the process's settings name."""
    key = session.info.get(_KEY_INFO)
    if key is None:
        settings = get_settings()
        embedded = session.get_bind().dialect.name == "sqlite"
        key = resolve_audit_key(settings.audit_key, settings.home, embedded=embedded).encode()
        session.info[_KEY_INFO] = key
    assert isinstance(key, bytes)
    return key


# The answer of a verification is the API's schema itself: the API, the UI and the CLI show it as is.
Verification = ChainVerification


def parse_head(value: str) -> tuple[int, str]:
    """``SEQ:HASH`` as printed by ``kiln audit verify``."""
    seq, _, digest = value.partition(":")
    digest = digest.strip().lower()
    if not seq.strip().isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"expected head {value!r} is not SEQ:HASH, e.g. 153:{'ab' * 32}")
    return int(seq), digest


def verify_chain(
    session: Session, *, expect_head: tuple[int, str] | None = None, batch: int = 5000
) -> Verification:
    """Walk the chain in order; report the first record whose seal or link does not hold, a removed
    tail or head, an emptied trail, and an ``expect_head`` (published earlier) the chain no longer holds."""
    key = session_key(session)
    expected_prev, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    expected_hash_seen: str | None = None

    def broken(seq: int | None, reason: str) -> Verification:
        return Verification(
            ok=False,
            checked=checked,
            broken_seq=seq,
            reason=reason,
            head_seq=last_seq,
            head_hash=expected_prev,
        )

    while True:
        rows = list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.seq > last_seq).order_by(AuditRecord.seq).limit(batch)
            )
        )
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return broken(expected_seq, f"record {expected_seq} is missing")
            if row.prev_hash != expected_prev:
                return broken(row.seq, "link to the previous record is broken")
            if row.scheme not in SEALED_SCHEMES:
                return broken(row.seq, "record is not keyed (legacy sha256): start the server once to re-key")
            if not hmac.compare_digest(chain_hash(row, key), row.hash):
                return broken(row.seq, "record content does not match its hash")
            if expect_head is not None and row.seq == expect_head[0]:
                expected_hash_seen = row.hash
            expected_prev, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
            checked += 1
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is None and last_seq > 0:
        return broken(last_seq + 1, "the chain head (audit_head) is missing")
    if head is not None and (head.seq != last_seq or head.last_hash != expected_prev):
        return broken(last_seq + 1, "records after the last one were removed")
    if last_seq == 0 and session.scalar(select(exists().select_from(_USERS))):
        accounts = session.scalar(select(func.count()).select_from(_USERS))
        return broken(1, f"the trail is empty but {accounts} accounts exist: its records were deleted")
    if expect_head is not None:
        seq, digest = expect_head
        if seq > last_seq:
            return broken(seq, f"the expected head record {seq} is gone (the trail ends at {last_seq})")
        if expected_hash_seen is None or not hmac.compare_digest(expected_hash_seen, digest):
            return broken(seq, f"record {seq} no longer has the expected head hash")
    return Verification(ok=True, checked=checked, head_seq=last_seq, head_hash=expected_prev)
