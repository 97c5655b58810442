"""Alerts' jobs: ``alerts.evaluate`` (queued by each monitoring tick once its windows are computed)
and ``alerts.deliver`` (one per message to a channel, retried with backoff)."""

from __future__ import annotations

import weakref
from datetime import datetime
from functools import cache
from typing import Any

from kiln.core.db import Database
from kiln.core.ids import ensure_utc, utcnow
from kiln.core.settings import Settings
from kiln.jobs.context import JobContext, PermanentFailure
from kiln.jobs.kinds import Backoff, job_kind, register_job_kind
from kiln.monitoring.alert_delivery import DELIVER, DeliveryFailed, attempt_delivery
from kiln.monitoring.alert_evaluation import evaluate_alerts
from kiln.storage.settings import StorageSettings
from kiln.storage.store import ArtifactStore

EVALUATE = "alerts.evaluate"
DELIVERY_BACKOFF = Backoff(initial_seconds=30, factor=2, max_seconds=1_800)
DELIVERY_ATTEMPTS = 5


def register_job_kinds() -> None:
    register_job_kind(
        EVALUATE, run_evaluation, max_attempts=3, backoff=Backoff(initial_seconds=10, max_seconds=60)
    )
    register_job_kind(
        DELIVER, run_delivery, max_attempts=DELIVERY_ATTEMPTS, backoff=DELIVERY_BACKOFF, timeout=120
    )


def run_evaluation(context: JobContext) -> dict[str, Any]:
    at = _moment(context.payload)
    with context.db.unit_of_work() as session:
        result = evaluate_alerts(session, at)
    return {"rules": result.rules, "fired": len(result.fired), "resolved": len(result.resolved)}


def run_delivery(context: JobContext) -> dict[str, Any]:
    delivery_id = str(context.payload.get("delivery_id", ""))
    try:
        outcome = attempt_delivery(
            context.db,
            delivery_id,
            attempt=context.attempt,
            last_attempt=context.attempt >= job_kind(DELIVER).max_attempts,
        )
    except DeliveryFailed as exc:
        if exc.permanent:
            raise PermanentFailure(str(exc)) from exc
        raise
    return {"delivery": outcome}


# The store of each app's database in this process (``kiln server`` binds its own at start), so a
# job run by that app's worker reads the artifacts that app writes.
_STORES: weakref.WeakKeyDictionary[Database, ArtifactStore] = weakref.WeakKeyDictionary()


def bind_store(db: Database, store: ArtifactStore) -> None:
    _STORES[db] = store


def job_store(db: Database) -> ArtifactStore:
    """The store jobs on ``db`` read: the one its app bound, else the one the settings name."""
    return _STORES.get(db) or _settings_store()


@cache
def _settings_store() -> ArtifactStore:
    # A worker reads the same KILN_* settings as the server, so it finds the same store.
    settings, storage = Settings(), StorageSettings()
    return ArtifactStore(storage.root(settings.home), storage.options(settings.home))


def _moment(payload: dict[str, Any]) -> datetime:
    try:
        return ensure_utc(datetime.fromisoformat(str(payload["at"])))
    except (KeyError, ValueError):
        return utcnow()
