"""What a step that ended leaves beyond its row: its output's lineage edges and its child tracking run.

Called by the run's execution once per step that ended for good (succeeded, failed, or reused from
the cache), after its row was written, in one transaction of its own. This is bookkeeping around a
result that is already durable: when it fails (a describer's table gone, a param tracking refuses)
it is logged and the run goes on, as a step's outcome must not be lost to its lineage.

Both are recorded as the pipeline run's worker, labelled with who asked for the run (the child
run is theirs as the pipeline's tracking run is).
"""

from __future__ import annotations

from typing import Any

import structlog

from kiln.core.actor import Actor
from kiln.core.db import Database
from kiln.core.permissions import Permission
from kiln.pipelines import lineage_nodes
from kiln.pipelines.models import PipelineRun
from kiln.pipelines.schemas import StepState
from kiln.pipelines.spec import StepSpec
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


def record(
    db: Database,
    *,
    run_id: str,
    project_id: str,
    step: StepSpec,
    parameters: dict[str, Any],
    outcome: StepOutcome | None,
    output: dict[str, Any] | None,
    state: StepState,
    artifact_root_url: str,
    cached_from: str | None = None,
) -> None:
    """Lineage of a succeeded step's ``output``; the child run of a tracked step that ran (``outcome``)."""
    try:
        with db.unit_of_work() as session:
            run = session.get(PipelineRun, run_id)
            if run is None:
                return
            actor = worker_actor(run)
            arguments = step_arguments(step, parameters)
            if state is StepState.succeeded and output is not None:
                lineage_nodes.record_output(
                    session,
                    actor,
                    run_id=run_id,
                    project_id=project_id,
                    step=step,
                    output=output,
                    arguments=arguments,
                    started_at=outcome.started_at if outcome else None,
                    cached_from=cached_from,
                )
            fmt = output.get("format") if output else None
            if outcome is not None and run.tracking_run_id and step.tracked(fmt):
                record_child_run(
                    session,
                    actor,
                    parent_run_id=run.tracking_run_id,
                    pipeline_run_id=run_id,
                    step=step,
                    arguments=arguments,
                    started_at=outcome.started_at,
                    succeeded=state is StepState.succeeded,
                    metrics=outcome.metrics,
                    params=outcome.params,
                    artifact_root_url=artifact_root_url,
                )
    except Exception:
        log.warning("pipelines.step_records_incomplete", run_id=run_id, step=step.name, exc_info=True)
