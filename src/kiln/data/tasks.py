"""The data domain's job: ``data.commit_pending``, the time-based ingestion policy's commit.

Queued (``ingestion_timer``) when a dataset with ``every_minutes`` gets its first pending rows, due
``every_minutes`` later. The handler makes the version of what is pending then, under the same lock
as every append; a timer that finds the oldest pending row younger than the policy's minutes (the
rows it was queued for became a version by row count since) queues itself again for that row's due
time. Safe to repeat: with nothing pending it does nothing.

The handler writes Parquet and may alert owners, so it needs the artifact store and the mailer,
which ``JobContext`` does not carry: ``bind_runtime`` hands it the process's (``create_app`` and
``kiln worker`` call it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from kiln.core.actor import SYSTEM
from kiln.core.ids import utcnow
from kiln.data import ingestion
from kiln.data.ingestion_timer import COMMIT_PENDING, schedule_commit
from kiln.data.models import Dataset
from kiln.data.service import ingestion_policy
from kiln.jobs.context import JobContext, PermanentFailure
from kiln.jobs.kinds import Backoff, register_job_kind
from kiln.notify.email import Mailer
from kiln.storage.store import ArtifactStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DataRuntime:
    store: ArtifactStore
    mailer: Mailer | None


_runtime: DataRuntime | None = None


def register_job_kinds() -> None:
    register_job_kind(
        COMMIT_PENDING,
        run_commit_pending,
        max_attempts=5,
        backoff=Backoff(initial_seconds=5, max_seconds=300),
    )


def bind_runtime(store: ArtifactStore, mailer: Mailer | None) -> None:
    """The store and mailer the jobs of this process use (the last app or worker built)."""
    global _runtime
    _runtime = DataRuntime(store, mailer)


def run_commit_pending(context: JobContext) -> dict[str, Any]:
    if _runtime is None:
        raise PermanentFailure("data.commit_pending needs the artifact store: call bind_runtime first")
    dataset_id = str(context.payload.get("dataset_id", ""))
    with context.db.unit_of_work() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            return {"dataset_id": dataset_id, "version": None, "reason": "the dataset is gone"}
        minutes = ingestion_policy(dataset).every_minutes
        if minutes is None:
            return {"dataset_id": dataset_id, "version": None, "reason": "the policy has no timer now"}
        oldest = ingestion.oldest_pending(session, dataset)
        if oldest is None:
            return {"dataset_id": dataset_id, "version": None, "reason": "nothing pending"}
        if oldest + timedelta(minutes=minutes) > utcnow():
            schedule_commit(session, dataset, minutes=minutes, since=oldest)
            return {"dataset_id": dataset_id, "version": None, "reason": "not due yet"}
        made = ingestion.commit_pending(
            session, SYSTEM, dataset, store=_runtime.store, mailer=_runtime.mailer
        )
        number = made.version.number if made is not None else None
    log.info("data.pending_committed", dataset_id=dataset_id, version=number)
    return {"dataset_id": dataset_id, "version": number}
