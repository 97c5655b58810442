"""``monitoring.retrain``: the job that starts a deployment's retraining run, and the subscription
that queues it for drift and alerts while an app runs (entered once per lifespan)."""

from __future__ import annotations

from typing import Any

from kiln.core import events
from kiln.core.db import Database
from kiln.core.ids import utcnow
from kiln.jobs.context import JobContext, PermanentFailure
from kiln.jobs.kinds import Backoff, register_job_kind
from kiln.monitoring.alert_tasks import job_store
from kiln.monitoring.events import AlertFired, DriftDetected
from kiln.monitoring.retraining_fire import RETRAIN_JOB, RetrainingListener, fire


def register_job_kinds() -> None:
    register_job_kind(
        RETRAIN_JOB, run_retrain, max_attempts=3, backoff=Backoff(initial_seconds=10, max_seconds=120)
    )


def run_retrain(context: JobContext) -> dict[str, Any]:
    if context.project_id is None or "deployment" not in context.payload or "cause" not in context.payload:
        raise PermanentFailure("a retrain job names its project, deployment and cause")
    with context.db.unit_of_work() as session:
        run_id = fire(
            session,
            context.project_id,
            context.payload,
            artifact_root_url=job_store(context.db).root_url,
            now=utcnow(),
        )
    return {"run_id": run_id}


class RetrainingSubscription:
    """``DriftDetected`` and ``AlertFired`` -> the retrain job, while an app runs."""

    def __init__(self, db: Database) -> None:
        self.listener = RetrainingListener(db)
        self._subscriptions = 0

    def subscribe(self) -> None:
        self._subscriptions += 1
        events.subscribe(DriftDetected, self.listener.on_drift)
        events.subscribe(AlertFired, self.listener.on_alert)

    def unsubscribe(self) -> None:
        self._subscriptions = max(0, self._subscriptions - 1)
        if not self._subscriptions:
            events.unsubscribe(DriftDetected, self.listener.on_drift)
            events.unsubscribe(AlertFired, self.listener.on_alert)
