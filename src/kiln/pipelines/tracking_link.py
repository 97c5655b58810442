"""One tracking run per pipeline run, so its parameters and outcome show where people already look.

The tracking run is created when the pipeline run is requested, in that transaction and as the
person who asked (a pipeline run is theirs as a tracking run is), in the experiment named
``pipelines/<pipeline>`` of the pipeline's project (created on first use). Its params are the run's
parameters; its tags name the pipeline, its version and the pipeline run. The run job ends it
(finished or failed) when the pipeline run ends.

A training step (``StepSpec.tracked``: ``track=True``, or by default a step that returns a model)
gets a child run of it when the step ends (``record_child_run``): named for the step, started when
the step started, its params the step's arguments (a parameter or literal as given, an upstream
output as ``step:<name>``) and what the step logged (``step_context``), its metrics what the step
logged, ended finished or failed with the step. Its tags say which pipeline run and step it is,
and ``mlflow.parentRunId`` names the parent, as MLflow's clients expect of a nested run.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.pipelines.spec import StepSpec
from kiln.tracking import service as tracking
from kiln.tracking.batches import log_batch
from kiln.tracking.schemas import (
    MAX_BATCH_METRICS,
    ExperimentCreate,
    LogBatch,
    MetricIn,
    ParamIn,
    RunCreate,
    RunStatus,
)

EXPERIMENT_PREFIX = "pipelines/"
MAX_PARAM_CHARS = 8000  # tracking's limit for one param's value


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


def record_child_run(
    session: Session,
    actor: Actor,
    *,
    parent_run_id: str,
    pipeline_run_id: str,
    step: StepSpec,
    arguments: dict[str, Any],
    started_at: datetime,
    succeeded: bool,
    metrics: list[dict[str, Any]],
    params: dict[str, str],
    artifact_root_url: str,
) -> str:
    """The step's child run, created, filled and ended at once; its id."""
    parent = tracking.get_run(session, actor, parent_run_id)
    created = tracking.create_run(
        session,
        actor,
        RunCreate(
            experiment_id=parent.experiment_id,
            name=step.name,
            parent_run_id=parent_run_id,
            source=f"pipeline-step:{step.function}",
            start_time=started_at,
            tags={
                "mlflow.parentRunId": parent_run_id,
                "kiln.pipeline_run": pipeline_run_id,
                "kiln.pipeline_step": step.name,
            },
        ),
        artifact_root_url=artifact_root_url,
    )
    values = {**_argument_params(step, arguments), **params}
    batch = LogBatch(
        params=[ParamIn(key=key, value=value[:MAX_PARAM_CHARS]) for key, value in values.items()],
        metrics=[MetricIn.model_validate(point) for point in metrics[:MAX_BATCH_METRICS]],
    )
    if batch.params or batch.metrics:
        log_batch(session, actor, created.id, batch)
    tracking.end_run(session, created.id, RunStatus.finished if succeeded else RunStatus.failed)
    return created.id


def _argument_params(step: StepSpec, arguments: dict[str, Any]) -> dict[str, str]:
    params = {}
    for argument, source in step.inputs.items():
        if source.source == "step":
            params[argument] = f"step:{source.step}"
        else:
            value = arguments.get(argument)
            params[argument] = value if isinstance(value, str) else json.dumps(value, default=str)
    return params
