"""``monitoring.retrain``: the job that starts a deployment's retraining run (queued with the drift
report or the alert that calls for it, ``retraining_fire.queue_retraining``)."""

from __future__ import annotations

from typing import Any

from kiln.core.ids import utcnow
from kiln.jobs.context import JobContext, PermanentFailure
from kiln.jobs.kinds import Backoff, register_job_kind
from kiln.monitoring.alert_tasks import job_store
from kiln.monitoring.retraining_fire import RETRAIN_JOB, fire


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
