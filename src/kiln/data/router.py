"""Datasets REST API: /api/v1/datasets (datasets, versions, uploads, downloads, diffs)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.data import access, reading, reads, service, versions
from kiln.data.frame_files import read_spooled
from kiln.data.refs import parse_version
from kiln.data.schemas import (
    ChangeSummary,
    DatasetCreate,
    DatasetRead,
    DatasetUpdate,
    DatasetVersionRead,
    DatasetVersionUploaded,
    VersionSource,
)
from kiln.notify.deps import MailerDep
from kiln.storage.deps import StoreDep

router = APIRouter(
    prefix="/api/v1",
    tags=["datasets"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)

DatasetsRead = Annotated[Actor, Depends(require(Permission.datasets_read))]
DatasetsWrite = Annotated[Actor, Depends(require(Permission.datasets_write))]
Project = Annotated[str | None, Query(description="project id or name; default: the one holding the dataset")]
VersionRef = Annotated[str, "a number from 1, or latest"]
AllowFailed = Annotated[
    bool, Query(description="read a version that failed its quality gate (refused with 409 otherwise)")
]


@router.post("/datasets", status_code=status.HTTP_201_CREATED, response_model=DatasetRead)
def create_dataset(data: DatasetCreate, session: SessionDep, actor: DatasetsWrite) -> DatasetRead:
    return reads.dataset_read(service.create_dataset(session, actor, data))


@router.get("/datasets", response_model=Page[DatasetRead])
def list_datasets(
    session: SessionDep, actor: DatasetsRead, page: PageQuery, project: Project = None
) -> Page[DatasetRead]:
    return reads.dataset_page(service.list_datasets(session, actor, page, project=project))


@router.get("/datasets/{name}", response_model=DatasetRead)
def get_dataset(name: str, session: SessionDep, actor: DatasetsRead, project: Project = None) -> DatasetRead:
    return reads.dataset_read(access.get_dataset(session, actor, name, project=project))


@router.patch("/datasets/{name}", response_model=DatasetRead)
def update_dataset(
    name: str, data: DatasetUpdate, session: SessionDep, actor: DatasetsWrite, project: Project = None
) -> DatasetRead:
    return reads.dataset_read(service.update_dataset(session, actor, name, data, project=project))


@router.post(
    "/datasets/{name}/versions", status_code=status.HTTP_201_CREATED, response_model=DatasetVersionUploaded
)
def upload_version(
    name: str,
    file: Annotated[UploadFile, File(description="a .csv (UTF-8, with a header) or .parquet file")],
    response: Response,
    session: SessionDep,
    actor: DatasetsWrite,
    store: StoreDep,
    mailer: MailerDep,
    source: Annotated[Literal["upload", "sdk"], Form(description="how the data came")] = "upload",
    project: Annotated[str | None, Form()] = None,
) -> DatasetVersionUploaded:
    """A new version from the file's rows (201); identical data answers the version holding it (200)."""
    dataset = access.get_dataset(session, actor, name, project=project, permission=Permission.datasets_write)
    filename = file.filename or "data"
    frame = read_spooled(file.file, filename)
    made = versions.create_version(
        session,
        actor,
        dataset,
        frame,
        source=VersionSource(source),
        store=store,
        source_file=filename,
        mailer=mailer,
    )
    if not made.created:
        response.status_code = status.HTTP_200_OK
    return reads.uploaded_read(dataset, made.version, created=made.created)


@router.get("/datasets/{name}/versions", response_model=Page[DatasetVersionRead])
def list_versions(
    name: str, session: SessionDep, actor: DatasetsRead, page: PageQuery, project: Project = None
) -> Page[DatasetVersionRead]:
    dataset = access.get_dataset(session, actor, name, project=project)
    return reads.version_page(dataset, versions.list_versions(session, dataset, page))


@router.get("/datasets/{name}/versions/{version}", response_model=DatasetVersionRead)
def get_version(
    name: str, version: VersionRef, session: SessionDep, actor: DatasetsRead, project: Project = None
) -> DatasetVersionRead:
    """A version's statistics, change summary against its parent, quality report and quarantine."""
    dataset = access.get_dataset(session, actor, name, project=project)
    return reads.version_read(dataset, versions.get_version(session, dataset, parse_version(version)))


@router.get("/datasets/{name}/versions/{version}/download", response_model=None)
def download_version(
    name: str,
    version: VersionRef,
    session: SessionDep,
    actor: DatasetsRead,
    store: StoreDep,
    format: Annotated[Literal["parquet", "csv"], Query(description="parquet (as stored) or csv")] = "parquet",
    allow_failed: AllowFailed = False,
    project: Project = None,
) -> Response:
    """The version's rows: its canonical Parquet bytes (verified while streamed), or CSV."""
    dataset = access.get_dataset(session, actor, name, project=project)
    row = versions.get_version(session, dataset, parse_version(version))
    reading.check_quality_gate(dataset, row, allow_failed=allow_failed)
    stem = f"{dataset.name}-v{row.number}"
    if format == "csv":
        frame = reading.load_frame(store, dataset, row, allow_failed=True)
        return Response(
            frame.to_csv(index=False),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
        )
    chunks = store.iter_verified(row.artifact_key, sha256=row.content_hash, size=row.size_bytes)
    return StreamingResponse(
        chunks,
        media_type="application/vnd.apache.parquet",
        headers={
            "content-length": str(row.size_bytes),
            "x-checksum-sha256": row.content_hash,
            "content-disposition": f'attachment; filename="{stem}.parquet"',
        },
    )


@router.get("/datasets/{name}/diff", response_model=ChangeSummary)
def diff_versions(
    name: str,
    session: SessionDep,
    actor: DatasetsRead,
    store: StoreDep,
    base: Annotated[str, Query(alias="from", description="the earlier version: a number or latest")],
    other: Annotated[str, Query(alias="to", description="the later version: a number or latest")],
    project: Project = None,
) -> ChangeSummary:
    """What changed between two versions: rows added and removed, columns, distribution shifts."""
    dataset = access.get_dataset(session, actor, name, project=project)
    before = versions.get_version(session, dataset, parse_version(base))
    after = versions.get_version(session, dataset, parse_version(other))
    return versions.diff_versions(store, dataset, before, after)
