"""Pipelines REST API: /api/v1/pipelines (definitions, versions, diffs, runs, step logs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.pipelines import reads, runs, service, triggers
from kiln.pipelines.access import get_pipeline
from kiln.pipelines.deps import PipelineSettingsDep
from kiln.pipelines.schemas import (
    PipelineDiff,
    PipelineRead,
    PipelineRegister,
    PipelineRegistered,
    PipelineRunRead,
    PipelineVersionRead,
    RunCreate,
    StepLog,
    TriggerCreate,
    TriggerRead,
)
from kiln.storage.deps import StoreDep

router = APIRouter(
    prefix="/api/v1", tags=["pipelines"], responses=error_responses(400, 401, 403, 404, 409, 422)
)

PipelinesRead = Annotated[Actor, Depends(require(Permission.pipelines_read))]
PipelinesWrite = Annotated[Actor, Depends(require(Permission.pipelines_write))]
PipelinesRun = Annotated[Actor, Depends(require(Permission.pipelines_run))]
Project = Annotated[
    str | None, Query(description="project id or name; default: the one holding the pipeline")
]


@router.post("/pipelines", status_code=status.HTTP_201_CREATED, response_model=PipelineRegistered)
def register_pipeline(
    data: PipelineRegister,
    response: Response,
    session: SessionDep,
    actor: PipelinesWrite,
    settings: PipelineSettingsDep,
) -> PipelineRegistered:
    """A new version of the pipeline (201); the latest version's definition again answers it (200)."""
    registered = service.register_pipeline(session, actor, data, allowed_modules=settings.modules)
    if not registered.created:
        response.status_code = status.HTTP_200_OK
    return reads.registered_read(registered)


@router.get("/pipelines", response_model=Page[PipelineRead])
def list_pipelines(
    session: SessionDep, actor: PipelinesRead, page: PageQuery, project: Project = None
) -> Page[PipelineRead]:
    found = service.list_pipelines(session, actor, page, project=project)
    return found.with_items([PipelineRead.model_validate(row) for row in found.items])


@router.get("/pipelines/{name}", response_model=PipelineRead)
def get_pipeline_route(
    name: str, session: SessionDep, actor: PipelinesRead, project: Project = None
) -> PipelineRead:
    return PipelineRead.model_validate(get_pipeline(session, actor, name, project=project))


@router.get("/pipelines/{name}/versions", response_model=Page[PipelineVersionRead])
def list_versions(
    name: str, session: SessionDep, actor: PipelinesRead, page: PageQuery, project: Project = None
) -> Page[PipelineVersionRead]:
    """The pipeline's history, newest first."""
    pipeline = get_pipeline(session, actor, name, project=project)
    found = service.list_versions(session, pipeline, page)
    return found.with_items([reads.version_read(pipeline, row) for row in found.items])


@router.get("/pipelines/{name}/versions/{number}", response_model=PipelineVersionRead)
def get_version(
    name: str, number: int, session: SessionDep, actor: PipelinesRead, project: Project = None
) -> PipelineVersionRead:
    pipeline = get_pipeline(session, actor, name, project=project)
    return reads.version_read(pipeline, service.get_version(session, pipeline, number))


@router.get("/pipelines/{name}/diff", response_model=PipelineDiff)
def diff_versions(
    name: str,
    session: SessionDep,
    actor: PipelinesRead,
    before: Annotated[int, Query(alias="from", ge=1)],
    after: Annotated[int, Query(alias="to", ge=1)],
    project: Project = None,
) -> PipelineDiff:
    """What changed from version ``from`` to version ``to``: steps and parameters, field by field."""
    return service.diff_versions(session, actor, name, before, after, project=project)


@router.post("/pipelines/{name}/runs", status_code=status.HTTP_201_CREATED, response_model=PipelineRunRead)
def create_run(
    name: str,
    data: RunCreate,
    session: SessionDep,
    actor: PipelinesRun,
    store: StoreDep,
    project: Project = None,
) -> PipelineRunRead:
    """Queue a run; bad parameters are refused (422) before anything is written."""
    run = runs.create_run(session, actor, name, data, project=project, artifact_root_url=store.root_url)
    pipeline = get_pipeline(session, actor, name, project=project or data.project)
    return runs.run_read(session, pipeline, run)


@router.get("/pipelines/{name}/runs", response_model=Page[PipelineRunRead])
def list_runs(
    name: str, session: SessionDep, actor: PipelinesRead, page: PageQuery, project: Project = None
) -> Page[PipelineRunRead]:
    pipeline, found = runs.list_runs(session, actor, name, page, project=project)
    return found.with_items([runs.run_read(session, pipeline, row, with_steps=False) for row in found.items])


@router.get("/pipelines/{name}/runs/{run_id}", response_model=PipelineRunRead)
def get_run(
    name: str, run_id: str, session: SessionDep, actor: PipelinesRead, project: Project = None
) -> PipelineRunRead:
    """One run with every step's state, timings, resources, output and error."""
    pipeline, run = runs.get_run(session, actor, name, run_id, project=project)
    return runs.run_read(session, pipeline, run)


@router.get("/pipelines/{name}/runs/{run_id}/logs", response_model=list[StepLog])
def run_logs(
    name: str,
    run_id: str,
    session: SessionDep,
    actor: PipelinesRead,
    step: Annotated[str | None, Query(description="one step's log only")] = None,
    project: Project = None,
) -> list[StepLog]:
    """Each step's timestamped log lines (what it printed and logged), in dependency order."""
    return runs.run_logs(session, actor, name, run_id, step=step, project=project)


@router.post("/pipelines/{name}/triggers", status_code=status.HTTP_201_CREATED, response_model=TriggerRead)
def create_trigger(
    name: str, data: TriggerCreate, session: SessionDep, actor: PipelinesWrite, project: Project = None
) -> TriggerRead:
    """Run the pipeline whenever a new version of dataset ``dataset`` arrives in its project."""
    return TriggerRead.model_validate(triggers.create_trigger(session, actor, name, data, project=project))


@router.get("/pipelines/{name}/triggers", response_model=list[TriggerRead])
def list_triggers(
    name: str, session: SessionDep, actor: PipelinesRead, project: Project = None
) -> list[TriggerRead]:
    return [
        TriggerRead.model_validate(row)
        for row in triggers.list_triggers(session, actor, name, project=project)
    ]


@router.delete("/pipelines/{name}/triggers/{trigger_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_trigger(
    name: str, trigger_id: str, session: SessionDep, actor: PipelinesWrite, project: Project = None
) -> Response:
    triggers.delete_trigger(session, actor, name, trigger_id, project=project)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
