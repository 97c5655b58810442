"""Reviewing a dataset's quarantine: list and download the refused rows, release or discard them.

A row changes status once, from ``pending``, with a conditional update (``WHERE status = 'pending'``):
of two reviewers deciding the same row at once, one wins and the other is told it was decided. A
released row (with the reviewer's fixes applied over its values) is appended again as a batch of
source ``release``: the rules judge it again in the next version, which the dataset's policy or a
commit makes; a row that still fails returns to the quarantine as a new row. Each decision writes
one audit record naming the rows, in the decision's transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, select, update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import Actor
from kiln.core.errors import Invalid, InvalidState, NotFound
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.data import ingestion
from kiln.data.ingestion_schemas import (
    AppendSource,
    QuarantineDiscard,
    QuarantineFilter,
    QuarantineRelease,
    QuarantineStatus,
)
from kiln.data.models import Dataset, QuarantinedRow, QuarantineReason
from kiln.data.service import LABEL_LENGTH, declared_schema
from kiln.notify.email import Mailer
from kiln.storage.store import ArtifactStore

_CSV_CHUNK = 1_000


def _filtered(dataset_id: str, where: QuarantineFilter) -> Select[Any]:
    query = select(QuarantinedRow).where(QuarantinedRow.dataset_id == dataset_id)
    if where.status is not None:
        query = query.where(QuarantinedRow.status == where.status.value)
    if where.version is not None:
        query = query.where(QuarantinedRow.version_number == where.version)
    if where.batch_id is not None:
        query = query.where(QuarantinedRow.batch_id == where.batch_id)
    reason = [QuarantineReason.row_id == QuarantinedRow.id]
    if where.rule is not None:
        reason.append(QuarantineReason.rule == where.rule)
    if where.check is not None:
        reason.append(QuarantineReason.check == where.check)
    if where.column is not None:
        reason.append(QuarantineReason.column == where.column)
    if len(reason) > 1:  # one reason of the row matches every condition given
        query = query.where(exists().where(and_(*reason)))
    return query


def list_quarantine(
    session: Session, dataset: Dataset, where: QuarantineFilter, page: PageParams
) -> Page[QuarantinedRow]:
    """The dataset's quarantined rows that match, oldest first."""
    return paginate(session, _filtered(dataset.id, where).order_by(QuarantinedRow.id), page, with_total=True)


def csv_columns(dataset: Dataset) -> list[str]:
    """The value columns of the quarantine's CSV: the schema's."""
    return [column.name for column in declared_schema(dataset).columns]


def quarantine_csv(
    session: Session, dataset_id: str, columns: list[str], where: QuarantineFilter
) -> Iterator[str]:
    """The matching rows as CSV, in chunks (never all rows in memory): the review columns, then the
    row's values in ``columns``. The caller's session stays open while it is read (a streamed
    response opens its own unit of work)."""
    header = ["quarantine_id", "status", "version", "batch_id", "row_number", "reasons", *columns]
    last = ""
    yield _csv_line(header)
    while True:
        chunk = list(
            session.scalars(
                _filtered(dataset_id, where)
                .where(QuarantinedRow.id > last)
                .order_by(QuarantinedRow.id)
                .limit(_CSV_CHUNK)
            )
        )
        if not chunk:
            return
        out = io.StringIO()
        writer = csv.writer(out)
        for row in chunk:
            values = row.data or {}
            writer.writerow(
                [
                    row.id,
                    row.status,
                    row.version_number or "",
                    row.batch_id or "",
                    row.row_number,
                    "; ".join(row.reasons),
                    *("" if values.get(name) is None else values[name] for name in columns),
                ]
            )
        yield out.getvalue()
        last = chunk[-1].id


def _csv_line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


@dataclass(frozen=True)
class Decided:
    rows: list[QuarantinedRow]
    staged: ingestion.Staged | None = None


def _decide(
    session: Session, actor: Actor, dataset: Dataset, ids: list[str], status: QuarantineStatus, note: str
) -> list[QuarantinedRow]:
    """Move ``ids`` from pending to ``status``, all or none (``NotFound``/``InvalidState`` naming them)."""
    unique = list(dict.fromkeys(ids))
    found = {
        row.id: row
        for row in session.scalars(
            select(QuarantinedRow).where(
                QuarantinedRow.dataset_id == dataset.id, QuarantinedRow.id.in_(unique)
            )
        )
    }
    missing = [row_id for row_id in unique if row_id not in found]
    if missing:
        raise NotFound(
            f"no quarantined row {missing[0]!r} in dataset {dataset.name!r}; nothing was decided",
            details={"dataset": dataset.name, "missing": missing},
        )
    for row in found.values():
        if row.status != QuarantineStatus.pending.value:
            raise _decided_already(dataset, row.id, row.status)
    result = session.execute(
        update(QuarantinedRow)
        .where(
            QuarantinedRow.dataset_id == dataset.id,
            QuarantinedRow.id.in_(unique),
            QuarantinedRow.status == QuarantineStatus.pending.value,
        )
        .values(
            status=status.value,
            note=note,
            decided_by=actor.label_within(LABEL_LENGTH),
            decided_by_user_id=actor.user_id,
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(unique):  # type: ignore[attr-defined]  # decided meanwhile by someone else
        raise _decided_already(dataset, None, "decided")
    for row in found.values():
        session.refresh(row)
    return [found[row_id] for row_id in unique]


def _decided_already(dataset: Dataset, row_id: str | None, status: str) -> InvalidState:
    which = f"quarantined row {row_id!r} was {status} already" if row_id else "a row was decided meanwhile"
    return InvalidState(
        f"{which}; nothing was decided (list the pending rows again)",
        details={"dataset": dataset.name, "id": row_id, "status": status},
    )


def release_rows(
    session: Session,
    actor: Actor,
    dataset: Dataset,
    data: QuarantineRelease,
    *,
    store: ArtifactStore,
    mailer: Mailer | None,
) -> Decided:
    """Release rows (with ``fixes``) into the next version: staged again, judged again."""
    unknown = [row_id for row_id in data.fixes if row_id not in data.ids]
    if unknown:
        raise Invalid(
            f"fixes name row {unknown[0]!r}, which is not among the rows released; add it to ids",
            details={"id": unknown[0]},
        )
    declared = {column.name for column in declared_schema(dataset).columns}
    for row_id, values in data.fixes.items():
        extra = [name for name in values if name not in declared]
        if extra:
            raise Invalid(
                f"fixes of row {row_id!r}: column `{extra[0]}` is not declared in the schema",
                details={"id": row_id, "column": extra[0]},
            )
    rows = _decide(session, actor, dataset, data.ids, QuarantineStatus.released, data.note)
    records = []
    for row in rows:
        fix = data.fixes.get(row.id)
        if fix:
            row.fixed = dict(fix)
        records.append({**(row.data or {}), **(fix or {})})
    session.flush()
    staged = ingestion.stage(
        session, actor, dataset, records, source=AppendSource.release, store=store, mailer=mailer
    )
    audit.record(
        session,
        actor,
        "dataset_quarantine.released",
        "dataset",
        dataset.id,
        {
            "dataset": dataset.name,
            "rows": len(rows),
            "ids": [row.id for row in rows],
            "fixed": sorted(data.fixes),
            "batch_id": staged.batch.id,
            "note": data.note,
        },
    )
    return Decided(rows, staged)


def discard_rows(session: Session, actor: Actor, dataset: Dataset, data: QuarantineDiscard) -> Decided:
    rows = _decide(session, actor, dataset, data.ids, QuarantineStatus.discarded, data.note)
    audit.record(
        session,
        actor,
        "dataset_quarantine.discarded",
        "dataset",
        dataset.id,
        {"dataset": dataset.name, "rows": len(rows), "ids": [row.id for row in rows], "note": data.note},
    )
    return Decided(rows)
