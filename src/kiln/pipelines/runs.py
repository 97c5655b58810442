"""Pipeline runs: requested (parameters checked first), listed, read with their steps and logs.

Requesting a run checks its parameters against the version's spec (``PipelineParametersInvalid``,
422, before anything is written), then writes the run, one pending row per step and the job that
executes it, all in the caller's transaction: a rolled-back request leaves no run and no job.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import Actor
from kiln.core.errors import NotFound
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.jobs.queue import enqueue
from kiln.pipelines.access import get_pipeline
from kiln.pipelines.models import Pipeline, PipelineRun, PipelineStepRun
from kiln.pipelines.schemas import PipelineRunRead, RunCreate, RunState, StepLog, StepRunRead, StepState
from kiln.pipelines.service import LABEL_LENGTH, get_version, version_spec
from kiln.pipelines.tracking_link import start_tracking_run

RUN_JOB = "pipelines.run"


def create_run(
    session: Session,
    actor: Actor,
    name: str,
    data: RunCreate,
    *,
    artifact_root_url: str,
    project: str | None = None,
    triggered_by: str = "manual",
) -> PipelineRun:
    """Queue a run of version ``data.version`` (default: the latest) of pipeline ``name``, with its
    tracking run (``tracking_link``)."""
    pipeline = get_pipeline(
        session, actor, name, project=project or data.project, permission=Permission.pipelines_run
    )
    version = get_version(session, pipeline, data.version)
    spec = version_spec(version)
    parameters = spec.resolve_parameters(data.parameters)
    order = spec.check_graph()
    run = PipelineRun(
        pipeline_id=pipeline.id,
        project_id=pipeline.project_id,
        version_id=version.id,
        version_number=version.number,
        state=RunState.queued.value,
        parameters=parameters,
        triggered_by=triggered_by,
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
    )
    session.add(run)
    session.flush()
    run.tracking_run_id = start_tracking_run(
        session,
        actor,
        project_id=pipeline.project_id,
        pipeline=pipeline.name,
        version=version.number,
        run_id=run.id,
        parameters=parameters,
        artifact_root_url=artifact_root_url,
    )
    for position, step_name in enumerate(order):
        step = spec.step(step_name)
        session.add(
            PipelineStepRun(
                run_id=run.id,
                name=step.name,
                position=position,
                function=step.function,
                state=StepState.pending.value,
                attempts=0,
                max_attempts=step.retries + 1,
            )
        )
    run.job_id = enqueue(session, RUN_JOB, {"run_id": run.id}, project_id=pipeline.project_id, actor=actor)
    session.flush()
    audit.record(
        session,
        actor,
        "pipeline.run_requested",
        "pipeline_run",
        run.id,
        {
            "pipeline": pipeline.name,
            "version": version.number,
            "parameters": parameters,
            "triggered_by": triggered_by,
        },
    )
    return run


def steps_of(session: Session, run_id: str) -> list[PipelineStepRun]:
    return list(
        session.scalars(
            select(PipelineStepRun).where(PipelineStepRun.run_id == run_id).order_by(PipelineStepRun.position)
        )
    )


def run_read(
    session: Session, pipeline: Pipeline, run: PipelineRun, *, with_steps: bool = True
) -> PipelineRunRead:
    steps = [StepRunRead.model_validate(step) for step in steps_of(session, run.id)] if with_steps else []
    return PipelineRunRead(
        id=run.id,
        pipeline=pipeline.name,
        project_id=run.project_id,
        version=run.version_number,
        state=RunState(run.state),
        parameters=run.parameters or {},
        job_id=run.job_id,
        tracking_run_id=run.tracking_run_id,
        triggered_by=run.triggered_by,
        error=run.error,
        traceback=run.traceback,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        created_by=run.created_by,
        steps=steps,
    )


def get_run(
    session: Session, actor: Actor, name: str, run_id: str, *, project: str | None = None
) -> tuple[Pipeline, PipelineRun]:
    pipeline = get_pipeline(session, actor, name, project=project)
    run = session.get(PipelineRun, run_id)
    if run is None or run.pipeline_id != pipeline.id:
        raise NotFound(f"run {run_id!r} of pipeline {name!r} not found", details={"run_id": run_id})
    return pipeline, run


def list_runs(
    session: Session, actor: Actor, name: str, page: PageParams, *, project: str | None = None
) -> tuple[Pipeline, Page[PipelineRun]]:
    """The pipeline's runs, newest first."""
    pipeline = get_pipeline(session, actor, name, project=project)
    query = (
        select(PipelineRun)
        .where(PipelineRun.pipeline_id == pipeline.id)
        .order_by(PipelineRun.created_at.desc(), PipelineRun.id.desc())
    )
    return pipeline, paginate(session, query, page)


def run_logs(
    session: Session,
    actor: Actor,
    name: str,
    run_id: str,
    *,
    step: str | None = None,
    project: str | None = None,
) -> list[StepLog]:
    """Each step's timestamped log lines (of one step when ``step`` is given), in dependency order."""
    _, run = get_run(session, actor, name, run_id, project=project)
    rows = steps_of(session, run.id)
    if step is not None:
        rows = [row for row in rows if row.name == step]
        if not rows:
            raise NotFound(f"run {run_id} has no step {step!r}", details={"step": step})
    return [StepLog(step=row.name, state=StepState(row.state), lines=row.log.splitlines()) for row in rows]
