"""Tracking REST API: /api/v1/experiments and /api/v1/runs."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response, StreamingResponse

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, SettingsDep, commit_in_route, require
from kiln.core.errors import Invalid
from kiln.core.http import error_responses
from kiln.core.json_body import ValidatedJsonRoute
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.responses import model_response
from kiln.core.schemas import Page
from kiln.storage.deps import StoreDep
from kiln.storage.uploads import check_declared_size
from kiln.tracking import artifacts, batches, compare, history, reads, reproduce, search, service
from kiln.tracking.schemas import (
    ArtifactRead,
    BatchResult,
    ExperimentCreate,
    ExperimentRead,
    ExperimentUpdate,
    LogBatch,
    MetricHistory,
    MetricIn,
    ParamIn,
    Reproduction,
    RunComparison,
    RunCreate,
    RunDetail,
    RunRead,
    RunUpdate,
    TagIn,
)

router = APIRouter(
    prefix="/api/v1",
    tags=["tracking"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429),
    # Bodies validated from their bytes: a 10,000-point batch in one pass (kiln.core.json_body).
    route_class=ValidatedJsonRoute,
)

Limit = Annotated[int, Query(ge=1, le=search.MAX_PAGE)]
ExperimentsRead = Annotated[Actor, Depends(require(Permission.experiments_read))]
ExperimentsWrite = Annotated[Actor, Depends(require(Permission.experiments_write))]
RunsRead = Annotated[Actor, Depends(require(Permission.runs_read))]
RunsWrite = Annotated[Actor, Depends(require(Permission.runs_write))]
ArtifactsRead = Annotated[Actor, Depends(require(Permission.artifacts_read))]
ArtifactsWrite = Annotated[Actor, Depends(require(Permission.artifacts_write))]


# -- experiments ------------------------------------------------------------------------------


@router.post("/experiments", status_code=status.HTTP_201_CREATED, response_model=ExperimentRead)
def create_experiment(data: ExperimentCreate, session: SessionDep, actor: ExperimentsWrite) -> ExperimentRead:
    return reads.experiment_read(session, service.create_experiment(session, actor, data))


@router.get("/experiments", response_model=Page[ExperimentRead])
def list_experiments(
    session: SessionDep,
    actor: ExperimentsRead,
    page: PageQuery,
    name: str | None = None,
    project: str | None = None,
) -> Page[ExperimentRead]:
    found = service.list_experiments(session, actor, page, name=name, project=project)
    return reads.experiment_page(session, found)


@router.get("/experiments/{experiment_id}", response_model=ExperimentRead)
def get_experiment(experiment_id: str, session: SessionDep, actor: ExperimentsRead) -> ExperimentRead:
    return reads.experiment_read(session, service.get_experiment(session, actor, experiment_id))


@router.patch("/experiments/{experiment_id}", response_model=ExperimentRead)
def update_experiment(
    experiment_id: str, data: ExperimentUpdate, session: SessionDep, actor: ExperimentsWrite
) -> ExperimentRead:
    return reads.experiment_read(session, service.update_experiment(session, actor, experiment_id, data))


# -- runs ------------------------------------------------------------------------------------


# The routes a training script calls (create, log, finish, read back) answer with their JSON built once
# (kiln.core.responses); response_model still documents them.


@router.post("/runs", status_code=status.HTTP_201_CREATED, response_model=RunRead)
def create_run(data: RunCreate, session: SessionDep, actor: RunsWrite, store: StoreDep) -> Response:
    run = service.create_run(session, actor, data, artifact_root_url=store.root_url)
    commit_in_route(session)
    return model_response(run, status.HTTP_201_CREATED)


@router.get("/runs", response_model=Page[RunRead])
def list_runs(
    session: SessionDep,
    actor: RunsRead,
    page: PageQuery,
    experiment_id: Annotated[list[str] | None, Query()] = None,
    filter: str | None = None,
    order_by: str | None = None,
) -> Page[RunRead]:
    found = search.list_runs(
        session, actor, page, experiment_ids=experiment_id or [], filter=filter, order_by=order_by
    )
    return reads.run_page(found)


@router.get("/runs/compare", response_model=RunComparison)
def compare_runs(
    session: SessionDep, actor: RunsRead, ids: Annotated[str, Query(description="comma-separated run ids")]
) -> RunComparison:
    run_ids = [part.strip() for part in ids.split(",") if part.strip()]
    return compare.compare_runs(session, actor, run_ids)


@router.get("/runs/{run_id}", response_model=RunDetail)
def get_run(run_id: str, session: SessionDep, actor: RunsRead) -> Response:
    run = reads.run_detail_by_id(session, actor, run_id)
    commit_in_route(session)
    return model_response(run)


@router.patch("/runs/{run_id}", response_model=RunRead)
def update_run(run_id: str, data: RunUpdate, session: SessionDep, actor: RunsWrite) -> Response:
    service.update_run(session, actor, run_id, data)
    run = reads.run_read_by_id(session, run_id)
    commit_in_route(session)
    return model_response(run)


@router.post("/runs/{run_id}/batch", response_model=BatchResult)
def log_batch(run_id: str, batch: LogBatch, session: SessionDep, actor: RunsWrite) -> Response:
    result = batches.log_batch(session, actor, run_id, batch)
    commit_in_route(session)
    return model_response(result)


@router.post("/runs/{run_id}/metrics", response_model=BatchResult)
def log_metric(run_id: str, metric: MetricIn, session: SessionDep, actor: RunsWrite) -> Response:
    return model_response(batches.log_batch(session, actor, run_id, LogBatch(metrics=[metric])))


@router.post("/runs/{run_id}/params", response_model=BatchResult)
def log_param(run_id: str, param: ParamIn, session: SessionDep, actor: RunsWrite) -> Response:
    return model_response(batches.log_batch(session, actor, run_id, LogBatch(params=[param])))


@router.post("/runs/{run_id}/tags", response_model=BatchResult)
def set_tag(run_id: str, tag: TagIn, session: SessionDep, actor: RunsWrite) -> Response:
    return model_response(batches.log_batch(session, actor, run_id, LogBatch(tags=[tag])))


@router.get("/runs/{run_id}/metrics/history", response_model=MetricHistory)
def metric_history(
    run_id: str,
    session: SessionDep,
    actor: RunsRead,
    key: Annotated[str, Query(min_length=1)],
    max_points: Annotated[int, Query(ge=2, le=history.MAX_POINTS_LIMIT)] = 1000,
) -> MetricHistory:
    return history.metric_history(session, actor, run_id, key, max_points=max_points)


@router.get("/runs/{run_id}/reproduce", response_model=Reproduction)
def reproduce_run(run_id: str, session: SessionDep, actor: RunsRead) -> Reproduction:
    return reproduce.reproduce_run(session, actor, run_id)


# -- artifacts ------------------------------------------------------------------------------


@router.get("/runs/{run_id}/artifacts", response_model=list[ArtifactRead])
def list_artifacts(
    run_id: str, session: SessionDep, actor: ArtifactsRead, prefix: str | None = None
) -> list[ArtifactRead]:
    return [
        ArtifactRead.model_validate(a)
        for a in artifacts.list_artifacts(session, actor, run_id, prefix=prefix)
    ]


@router.put(
    "/runs/{run_id}/artifacts/{path:path}",
    status_code=status.HTTP_201_CREATED,
    response_model=ArtifactRead,
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        }
    },
)
async def upload_artifact(
    run_id: str,
    path: str,
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    actor: ArtifactsWrite,
    store: StoreDep,
) -> ArtifactRead:
    """Stream the request body into a new object (never whole in memory), then record it."""
    check_declared_size(request.headers.get("content-length"), settings.http.max_upload_bytes)
    stored = await artifacts.upload_artifact(
        session, actor, store, run_id, path, request.stream(), max_bytes=settings.http.max_upload_bytes
    )
    return stored.artifact


def _attachment(filename: str) -> str:
    # Headers are latin-1: names with other characters (or quotes) travel RFC 5987-encoded.
    encoded = quote(filename)
    if encoded != filename:
        return f"attachment; filename*=utf-8''{encoded}"
    return f'attachment; filename="{filename}"'


@router.get("/runs/{run_id}/artifacts/{path:path}", response_class=StreamingResponse)
def download_artifact(
    run_id: str, path: str, session: SessionDep, actor: ArtifactsRead, store: StoreDep
) -> StreamingResponse:
    if not path:
        raise Invalid("give the artifact's path, e.g. /runs/{run_id}/artifacts/model/model.skops")
    artifact = artifacts.get_artifact(session, actor, run_id, path)
    chunks = store.iter_verified(artifact.object_key, sha256=artifact.sha256, size=artifact.size)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={
            "content-length": str(artifact.size),
            "x-checksum-sha256": artifact.sha256,
            "content-disposition": _attachment(artifact.path.rsplit("/", 1)[-1]),
        },
    )
