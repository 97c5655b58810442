"""Continuous ingestion: appends stage rows; the dataset's policy (or a request) makes them a version.

An append is judged before anything is stored: an undeclared column (named with its record), a
missing column or a column with no value of its type refuses the whole batch (422) and nothing is
staged. Accepted, it is one ``PendingBatch`` (its rows as JSON records). Rows that fail per-row
rules are staged too: they reach the quarantine when the version is made, with their reasons.

**Never lose or duplicate a row.** Every append and every commit starts with one atomic update of
the dataset's ``pending_rows``: on PostgreSQL that update holds the dataset's row lock until the
transaction ends, on SQLite it opens the (single) write transaction. So an append and a commit of the
same dataset never interleave: a commit sees every batch committed before it and none after, makes
the version of exactly those batches and deletes exactly them, in one transaction. The counter
moves with the batches, so the policy's "every N rows" needs no count query.

Policy (``IngestionPolicy``): ``every_rows`` commits in the append that reaches N pending rows;
``every_minutes`` queues a ``data.commit_pending`` job (``ingestion_timer``) when rows start pending;
with neither, ``POST /versions/commit`` does it. The version an append makes holds the latest
version's rows followed by the accepted appended ones (``versions.create_version(base=...)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import InvalidState
from kiln.core.ids import ensure_utc, utcnow
from kiln.data.canonical import read_frame
from kiln.data.ingestion_schemas import AppendSource, PendingRead
from kiln.data.ingestion_timer import schedule_commit
from kiln.data.models import Dataset, PendingBatch
from kiln.data.quarantine_store import RowOrigins
from kiln.data.reading import version_bytes
from kiln.data.records import check_records, to_frame
from kiln.data.rules import split_rows
from kiln.data.schemas import VersionSource
from kiln.data.service import LABEL_LENGTH, declared_rules, declared_schema, ingestion_policy
from kiln.data.versions import NewVersion, create_version, find_by_number
from kiln.notify.email import Mailer
from kiln.storage.store import ArtifactStore

_SOURCE_FILE_LENGTH = 256


@dataclass(frozen=True)
class Staged:
    batch: PendingBatch
    pending_rows: int  # after this append (0 when it became a version)
    made: NewVersion | None


def _add_pending(session: Session, dataset: Dataset, rows: int) -> int:
    """Move the dataset's pending count by ``rows`` and return it: the ingestion lock (see above)."""
    pending: int = session.execute(
        update(Dataset)
        .where(Dataset.id == dataset.id)
        .values(pending_rows=Dataset.pending_rows + rows)
        .returning(Dataset.pending_rows)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return pending


def stage(
    session: Session,
    actor: Actor,
    dataset: Dataset,
    records: Sequence[dict[str, Any]],
    *,
    source: AppendSource,
    store: ArtifactStore,
    mailer: Mailer | None,
    source_file: str = "",
) -> Staged:
    """Stage ``records`` whole (or refuse them whole), then apply the dataset's policy."""
    schema = declared_schema(dataset)
    check_records(records, schema)
    split_rows(to_frame(records, schema), schema, declared_rules(dataset))  # whole-batch refusals
    pending = _add_pending(session, dataset, len(records))
    batch = PendingBatch(
        dataset_id=dataset.id,
        records=list(records),
        row_count=len(records),
        source=source.value,
        source_file=source_file[:_SOURCE_FILE_LENGTH],
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
        created_at=utcnow(),
    )
    session.add(batch)
    session.flush()
    policy = ingestion_policy(dataset)
    if policy.every_rows is not None and pending >= policy.every_rows:
        made = commit_pending(session, actor, dataset, store=store, mailer=mailer, locked=True)
        return Staged(batch, 0, made)
    if policy.every_minutes is not None and pending == len(records):  # the first pending rows
        schedule_commit(session, dataset, minutes=policy.every_minutes)
    return Staged(batch, pending, None)


def commit_pending(
    session: Session,
    actor: Actor,
    dataset: Dataset,
    *,
    store: ArtifactStore,
    mailer: Mailer | None,
    locked: bool = False,
) -> NewVersion | None:
    """The version of the dataset's pending rows (None when none are pending)."""
    if not locked:
        _add_pending(session, dataset, 0)
    batches = list(
        session.scalars(
            select(PendingBatch)
            .where(PendingBatch.dataset_id == dataset.id)
            .order_by(PendingBatch.created_at, PendingBatch.id)
        )
    )
    if not batches:
        return None
    records = [record for batch in batches for record in batch.records]
    origins = RowOrigins(
        batch_ids=[batch.id for batch in batches for _ in range(batch.row_count)],
        positions=[position for batch in batches for position in range(batch.row_count)],
    )
    session.execute(
        delete(PendingBatch).where(PendingBatch.id.in_([batch.id for batch in batches])),
        execution_options={"synchronize_session": False},
    )
    _add_pending(session, dataset, -len(records))
    parent = find_by_number(session, dataset, None)
    base = read_frame(version_bytes(store, dataset, parent)) if parent is not None else None
    return create_version(
        session,
        actor,
        dataset,
        to_frame(records, declared_schema(dataset)),
        source=VersionSource.ingestion,
        store=store,
        source_file="appends",
        base=base,
        origins=origins,
        mailer=mailer,
    )


def require_pending(made: NewVersion | None, dataset: Dataset) -> NewVersion:
    if made is None:
        raise InvalidState(
            f"dataset {dataset.name!r} has no appended rows pending; append rows first "
            f"(POST /api/v1/datasets/{dataset.name}/records)",
            details={"dataset": dataset.name},
        )
    return made


def pending_of(session: Session, dataset: Dataset) -> PendingRead:
    batches, oldest = session.execute(
        select(func.count(PendingBatch.id), func.min(PendingBatch.created_at)).where(
            PendingBatch.dataset_id == dataset.id
        )
    ).one()
    rows = session.scalar(select(Dataset.pending_rows).where(Dataset.id == dataset.id)) or 0
    return PendingRead(
        dataset=dataset.name,
        pending_rows=int(rows),
        batches=int(batches or 0),
        oldest=ensure_utc(oldest) if oldest is not None else None,
        ingestion=ingestion_policy(dataset),
    )


def oldest_pending(session: Session, dataset: Dataset) -> datetime | None:
    oldest = session.scalar(
        select(func.min(PendingBatch.created_at)).where(PendingBatch.dataset_id == dataset.id)
    )
    return ensure_utc(oldest) if oldest is not None else None
