"""One tracking run per pipeline run, so its parameters and outcome show where people already look.

The tracking run is created when the pipeline run is requested, in that transaction and as the
person who asked (a pipeline run is theirs as a tracking run is), in the experiment named
``pipelines/<pipeline>`` of the pipeline's project (created on first use). Its params are the run's
parameters; its tags name the pipeline, its version and the pipeline run. The run job ends it
(finished or failed) when the pipeline run ends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.tracking import service as tracking
from kiln.tracking.batches import log_batch
from kiln.tracking.schemas import ExperimentCreate, LogBatch, ParamIn, RunCreate, RunStatus

EXPERIMENT_PREFIX = "pipelines/"


def experiment_name(pipeline: str) -> str:
    return f"{EXPERIMENT_PREFIX}{pipeline}"


def start_tracking_run(
    session: Session,
    actor: Actor,
    *,
    project_id: str,
    pipeline: str,
    version: int,
    run_id: str,
    parameters: dict[str, Any],
    artifact_root_url: str,
) -> str:
    """The new tracking run's id."""
    name = experiment_name(pipeline)
    experiment = tracking.find_experiment_by_name(session, actor, name, project=project_id)
    if experiment is None:
        experiment = tracking.create_experiment(
            session,
            actor,
            ExperimentCreate(name=name, project=project_id, description=f"Runs of pipeline {pipeline}"),
        )
    created = tracking.create_run(
        session,
        actor,
        RunCreate(
            experiment_id=experiment.id,
            name=f"{pipeline} v{version} {run_id[-8:]}",
            source=f"pipeline:{pipeline}",
            tags={
                "kiln.pipeline": pipeline,
                "kiln.pipeline_version": str(version),
                "kiln.pipeline_run": run_id,
            },
        ),
        artifact_root_url=artifact_root_url,
    )
    if parameters:
        batch = LogBatch(params=[ParamIn(key=key, value=str(value)) for key, value in parameters.items()])
        log_batch(session, actor, created.id, batch)
    return created.id


def end_tracking_run(session: Session, tracking_run_id: str | None, *, succeeded: bool) -> None:
    if tracking_run_id is not None:
        tracking.end_run(session, tracking_run_id, RunStatus.finished if succeeded else RunStatus.failed)
