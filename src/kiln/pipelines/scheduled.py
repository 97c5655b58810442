"""Cron schedules of pipelines: the job queue's generic schedules enqueue ``pipelines.scheduled``.

A schedule (``kiln.jobs.schedules``) knows nothing of pipelines: it enqueues a job of a kind with a
payload at each fire. This kind starts one run of the payload's pipeline, in the schedule's project,
as the system (like a new-data trigger), with the payload's parameters:

    client.schedules.create("nightly", "0 2 * * *", time_zone="Europe/Paris",
                            kind="pipelines.scheduled", payload={"pipeline": "training"}, project_id=...)

Delivery is at least once, so the run is named after its job (``triggered_by``): a job delivered
twice finds the run it started and starts no second one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kiln.core.actor import SYSTEM
from kiln.core.errors import KilnError
from kiln.jobs.context import JobContext, PermanentFailure
from kiln.pipelines.models import PipelineRun
from kiln.pipelines.runs import create_run
from kiln.pipelines.schemas import RunCreate

SCHEDULED_JOB = "pipelines.scheduled"


def start_scheduled_run(context: JobContext, *, artifact_root_url: str) -> dict[str, Any]:
    """The job's handler: the id of the run it started (or had started, on a second delivery)."""
    name, parameters = context.payload.get("pipeline"), context.payload.get("parameters") or {}
    if not isinstance(name, str) or not isinstance(parameters, dict) or context.project_id is None:
        raise PermanentFailure(
            'a pipelines.scheduled job needs a project and a payload {"pipeline": NAME, "parameters": {...}}'
        )
    triggered_by = f"schedule:{context.job_id}"
    with context.db.unit_of_work() as session:
        started = session.scalar(
            select(PipelineRun.id).where(
                PipelineRun.project_id == context.project_id, PipelineRun.triggered_by == triggered_by
            )
        )
        if started is None:
            try:
                run = create_run(
                    session,
                    SYSTEM,
                    name,
                    RunCreate(parameters=parameters, version=context.payload.get("version")),
                    artifact_root_url=artifact_root_url,
                    project=context.project_id,
                    triggered_by=triggered_by,
                )
            except KilnError as exc:  # the pipeline is gone, its parameters changed: a retry repeats it
                raise PermanentFailure(f"pipeline {name!r}: {exc.message}") from exc
            started = run.id
    return {"run_id": started}
