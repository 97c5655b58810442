"""The time-based ingestion policy's timer: a ``data.commit_pending`` job on the queue, due when the
oldest pending row has waited ``every_minutes``. Enqueued in the transaction that made rows pending
(so it exists only if they do); the handler is ``kiln.data.tasks``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kiln.core.ids import utcnow
from kiln.data.models import Dataset
from kiln.jobs.queue import enqueue

COMMIT_PENDING = "data.commit_pending"


def schedule_commit(
    session: Session, dataset: Dataset, *, minutes: int, since: datetime | None = None
) -> str:
    """Queue the commit of ``dataset``'s pending rows ``minutes`` after ``since`` (default: now)."""
    due = (since or utcnow()) + timedelta(minutes=minutes)
    return enqueue(
        session,
        COMMIT_PENDING,
        {"dataset_id": dataset.id},
        project_id=dataset.project_id,
        run_after=due,
    )
