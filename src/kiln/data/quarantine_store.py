"""Keeping the rows the rules refused: one ``QuarantinedRow`` per row (its values as they came, every
reason) and one ``QuarantineReason`` per reason (what the review list filters on).

Written in the version's transaction with two executemany inserts, so a version and its quarantine
exist together or not at all. The review (list, download, release, discard) is ``data/quarantine.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from kiln.core.ids import new_id, utcnow
from kiln.data.models import Dataset, DatasetVersion, QuarantinedRow, QuarantineReason
from kiln.data.records import record_of
from kiln.data.rules import RuleOutcome

_ROWS = cast(Table, QuarantinedRow.__table__)
_REASONS = cast(Table, QuarantineReason.__table__)
_COLUMN_LENGTH = 512
_RULE_LENGTH = 128


@dataclass(frozen=True)
class RowOrigins:
    """Where each row of a judged batch came from: its append (pending batch) and place in it."""

    batch_ids: Sequence[str | None]
    positions: Sequence[int]


def store_quarantined(
    session: Session,
    dataset: Dataset,
    version: DatasetVersion,
    outcome: RuleOutcome,
    *,
    source: str,
    origins: RowOrigins | None,
) -> int:
    """Keep ``outcome``'s quarantined rows, judged for ``version``; returns how many."""
    if outcome.quarantined.empty:
        return 0
    now = utcnow()
    rows, reasons = [], []
    ids: dict[int, str] = {}
    for (position, row), row_reasons in zip(outcome.quarantined.iterrows(), outcome.reasons, strict=True):
        place = int(cast(int, position))
        row_id = ids[place] = new_id()
        rows.append(
            {
                "id": row_id,
                "dataset_id": dataset.id,
                "batch_id": origins.batch_ids[place] if origins else None,
                "version_id": version.id,
                "version_number": version.number,
                "source": source,
                "row_number": origins.positions[place] if origins else place,
                "data": record_of(row),
                "reasons": list(row_reasons),
                "status": "pending",
                "fixed": None,
                "note": "",
                "decided_by": "",
                "decided_by_user_id": None,
                "decided_at": None,
                "created_at": now,
            }
        )
    for row_number, check, column, rule in outcome.violations[["row", "check", "column", "rule"]].itertuples(
        index=False, name=None
    ):
        reasons.append(
            {
                "id": new_id(),
                "row_id": ids[int(row_number)],
                "dataset_id": dataset.id,
                "check": str(check),
                "column": str(column)[:_COLUMN_LENGTH],
                "rule": str(rule)[:_RULE_LENGTH],
            }
        )
    session.execute(insert(_ROWS), rows)
    if reasons:
        session.execute(insert(_REASONS), reasons)
    return len(rows)
