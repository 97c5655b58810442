"""Ingestion and quarantine REST API: appends, pending rows, commits, and the quarantine review."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from kiln.core.actor import Actor
from kiln.core.deps import DatabaseDep, SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.data import access, ingestion, quarantine, reads
from kiln.data.frame_files import read_spooled
from kiln.data.ingestion_schemas import (
    AppendResult,
    AppendSource,
    PendingRead,
    QuarantineDecided,
    QuarantineDiscard,
    QuarantinedRowRead,
    QuarantineFilter,
    QuarantineRelease,
    QuarantineStatus,
    RecordsAppend,
)
from kiln.data.records import to_records
from kiln.data.router import DatasetsRead, DatasetsWrite, Project
from kiln.data.schemas import DatasetVersionUploaded
from kiln.notify.deps import MailerDep
from kiln.storage.deps import StoreDep

# The dataset routes' permissions and project parameter are data.router's (one definition).
router = APIRouter(
    prefix="/api/v1",
    tags=["datasets"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)

QuarantineReview = Annotated[Actor, Depends(require(Permission.quarantine_review))]


@router.post("/datasets/{name}/records", status_code=status.HTTP_201_CREATED, response_model=AppendResult)
def append_records(
    name: str,
    data: RecordsAppend,
    session: SessionDep,
    actor: DatasetsWrite,
    store: StoreDep,
    mailer: MailerDep,
    project: Project = None,
) -> AppendResult:
    """Stage JSON rows whole (a schema-breaking batch is a 422 and stages nothing); the dataset's
    ingestion policy may make them a version at once."""
    dataset = access.get_dataset(session, actor, name, project=project, permission=Permission.datasets_write)
    staged = ingestion.stage(
        session, actor, dataset, data.records, source=AppendSource.records, store=store, mailer=mailer
    )
    return reads.appended_read(dataset, staged)


@router.post(
    "/datasets/{name}/records/file", status_code=status.HTTP_201_CREATED, response_model=AppendResult
)
def append_file(
    name: str,
    file: Annotated[UploadFile, File(description="a .csv (UTF-8, with a header) or .parquet file")],
    session: SessionDep,
    actor: DatasetsWrite,
    store: StoreDep,
    mailer: MailerDep,
    project: Project = None,
) -> AppendResult:
    """Stage a file's rows as one append (whole or not at all), like JSON records."""
    dataset = access.get_dataset(session, actor, name, project=project, permission=Permission.datasets_write)
    filename = file.filename or "data"
    records = to_records(read_spooled(file.file, filename))
    staged = ingestion.stage(
        session,
        actor,
        dataset,
        records,
        source=AppendSource.file,
        store=store,
        mailer=mailer,
        source_file=filename,
    )
    return reads.appended_read(dataset, staged)


@router.get("/datasets/{name}/pending", response_model=PendingRead)
def get_pending(name: str, session: SessionDep, actor: DatasetsRead, project: Project = None) -> PendingRead:
    """How many appended rows wait for the next version, and the policy that will make it."""
    dataset = access.get_dataset(session, actor, name, project=project)
    return ingestion.pending_of(session, dataset)


@router.post(
    "/datasets/{name}/versions/commit",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetVersionUploaded,
)
def commit_pending(
    name: str,
    response: Response,
    session: SessionDep,
    actor: DatasetsWrite,
    store: StoreDep,
    mailer: MailerDep,
    project: Project = None,
) -> DatasetVersionUploaded:
    """Make the pending rows a version now (201); 200 when every row was refused and the data is the
    latest version's; 409 when nothing is pending."""
    dataset = access.get_dataset(session, actor, name, project=project, permission=Permission.datasets_write)
    made = ingestion.require_pending(
        ingestion.commit_pending(session, actor, dataset, store=store, mailer=mailer), dataset
    )
    if not made.created:
        response.status_code = status.HTTP_200_OK
    return reads.uploaded_read(dataset, made.version, created=made.created)


def _filter(
    status: Annotated[
        QuarantineStatus | None, Query(description="pending (default), released or discarded")
    ] = QuarantineStatus.pending,
    rule: Annotated[str | None, Query(max_length=128, description="a rule's name")] = None,
    check: Annotated[
        str | None, Query(max_length=16, description="type, null, range, category, duplicate, expression")
    ] = None,
    column: Annotated[str | None, Query(max_length=512)] = None,
    version: Annotated[int | None, Query(ge=1, description="the version the rows were judged for")] = None,
    batch_id: Annotated[str | None, Query(max_length=36, description="the append they came in")] = None,
) -> QuarantineFilter:
    return QuarantineFilter(
        status=status, rule=rule, check=check, column=column, version=version, batch_id=batch_id
    )


FilterQuery = Annotated[QuarantineFilter, Depends(_filter)]


@router.get("/datasets/{name}/quarantine", response_model=Page[QuarantinedRowRead])
def list_quarantine(
    name: str,
    session: SessionDep,
    actor: DatasetsRead,
    page: PageQuery,
    where: FilterQuery,
    project: Project = None,
) -> Page[QuarantinedRowRead]:
    """The rows the rules refused, with their reasons; filter by status, rule, check, column, version."""
    dataset = access.get_dataset(session, actor, name, project=project)
    return reads.quarantined_page(dataset, quarantine.list_quarantine(session, dataset, where, page))


@router.get("/datasets/{name}/quarantine/download", response_model=None)
def download_quarantine(
    name: str,
    session: SessionDep,
    db: DatabaseDep,
    actor: DatasetsRead,
    where: FilterQuery,
    project: Project = None,
) -> StreamingResponse:
    """The matching rows as CSV: review columns, then the row's values (fix them, then release)."""
    dataset = access.get_dataset(session, actor, name, project=project)
    dataset_id, columns, filename = (
        dataset.id,
        quarantine.csv_columns(dataset),
        f"{dataset.name}-quarantine.csv",
    )

    def lines() -> Iterator[str]:
        # The request's session closes before the body is sent: the rows are read in one of their own.
        with db.unit_of_work() as reading:
            yield from quarantine.quarantine_csv(reading, dataset_id, columns, where)

    return StreamingResponse(
        lines(),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/datasets/{name}/quarantine/release", response_model=QuarantineDecided)
def release_quarantined(
    name: str,
    data: QuarantineRelease,
    session: SessionDep,
    actor: QuarantineReview,
    store: StoreDep,
    mailer: MailerDep,
    project: Project = None,
) -> QuarantineDecided:
    """Release rows (with fixed values) into the next version; the rules judge them again."""
    dataset = access.get_dataset(
        session, actor, name, project=project, permission=Permission.quarantine_review
    )
    decided = quarantine.release_rows(session, actor, dataset, data, store=store, mailer=mailer)
    return reads.decided_read(dataset, decided, QuarantineStatus.released)


@router.post("/datasets/{name}/quarantine/discard", response_model=QuarantineDecided)
def discard_quarantined(
    name: str, data: QuarantineDiscard, session: SessionDep, actor: QuarantineReview, project: Project = None
) -> QuarantineDecided:
    """Discard rows for good (they stay listed, as discarded, with who decided and why)."""
    dataset = access.get_dataset(
        session, actor, name, project=project, permission=Permission.quarantine_review
    )
    decided = quarantine.discard_rows(session, actor, dataset, data)
    return reads.decided_read(dataset, decided, QuarantineStatus.discarded)
