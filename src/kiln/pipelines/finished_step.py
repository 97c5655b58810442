"""What a run's steps leave beyond their rows: a training step's child tracking run, the outputs' lineage.

Called by the run's execution from two places: ``record_child_run_of`` when a step ends for good
(only a tracked step costs a transaction; an untracked one returns at once, so a chain of small
steps pays nothing per step), and ``record_lineage`` once when the run ends, for every step that
succeeded (read from the step rows, so a resumed run links the steps an earlier worker ran too).

Both are bookkeeping around results already durable: when one fails (a param tracking refuses, a
describer's table gone) it is logged and the run goes on, as an outcome must not be lost to it.
They are recorded as the pipeline run's worker, labelled with who asked for the run (the child run
is theirs as the pipeline's tracking run is).
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from kiln.core.actor import Actor
from kiln.core.db import Database
from kiln.core.permissions import Permission
from kiln.pipelines import lineage_nodes
from kiln.pipelines.models import PipelineRun, PipelineStepRun, PipelineVersion
from kiln.pipelines.schemas import StepState
from kiln.pipelines.spec import PipelineSpec, StepSpec
from kiln.pipelines.step_process import StepOutcome
from kiln.pipelines.tracking_link import record_child_run

log = structlog.get_logger(__name__)
_ACTOR_LABEL = 200


def worker_actor(run: PipelineRun) -> Actor:
    name = f"pipeline run {run.id[-8:]}" + (f" for {run.created_by}" if run.created_by else "")
    return Actor(
        kind="system",
        id="pipelines",
        name=name[:_ACTOR_LABEL],
        role="admin",
        user_id=run.created_by_user_id,
        permissions=frozenset(Permission),
    )


def step_arguments(step: StepSpec, parameters: dict[str, Any]) -> dict[str, Any]:
    """Each argument's value as the step got it; an upstream output is named, not loaded."""
    arguments: dict[str, Any] = {}
    for argument, source in step.inputs.items():
        if source.source == "param":
            arguments[argument] = parameters.get(str(source.param))
        elif source.source == "value":
            arguments[argument] = source.value
    return arguments


def record_child_run_of(
    db: Database,
    *,
    run_id: str,
    step: StepSpec,
    parameters: dict[str, Any],
    outcome: StepOutcome,
    state: StepState,
    artifact_root_url: str,
) -> None:
    """The child tracking run of a tracked step that ran (``StepSpec.tracked``); nothing otherwise."""
    if not step.tracked(outcome.output.get("format") if outcome.output else None):
        return
    try:
        with db.unit_of_work() as session:
            run = session.get(PipelineRun, run_id)
            if run is None or not run.tracking_run_id:
                return
            record_child_run(
                session,
                worker_actor(run),
                parent_run_id=run.tracking_run_id,
                pipeline_run_id=run_id,
                step=step,
                arguments=step_arguments(step, parameters),
                started_at=outcome.started_at,
                succeeded=state is StepState.succeeded,
                metrics=outcome.metrics,
                params=outcome.params,
                artifact_root_url=artifact_root_url,
            )
    except Exception:
        log.warning("pipelines.child_run_not_recorded", run_id=run_id, step=step.name, exc_info=True)


def record_lineage(db: Database, run_id: str) -> None:
    """The lineage edges of every succeeded step's output of the run (``lineage_nodes``)."""
    try:
        with db.unit_of_work() as session:
            run = session.get(PipelineRun, run_id)
            version = session.get(PipelineVersion, run.version_id) if run is not None else None
            if run is None or version is None:
                return
            spec = PipelineSpec.model_validate(version.spec)
            rows = session.execute(
                select(PipelineStepRun.name, PipelineStepRun.output, PipelineStepRun.cached).where(
                    PipelineStepRun.run_id == run_id,
                    PipelineStepRun.state == StepState.succeeded.value,
                )
            )
            parameters = dict(run.parameters or {})
            succeeded = [
                lineage_nodes.SucceededStep(
                    step=spec.step(row.name),
                    output=dict(row.output),
                    cached=bool(row.cached),
                    arguments=step_arguments(spec.step(row.name), parameters),
                )
                for row in rows
                if row.output is not None
            ]
            if succeeded:
                lineage_nodes.record_run_outputs(
                    session,
                    worker_actor(run),
                    run_id=run_id,
                    project_id=run.project_id,
                    started_at=run.started_at,
                    succeeded=succeeded,
                )
    except Exception:
        log.warning("pipelines.lineage_not_recorded", run_id=run_id, exc_info=True)
