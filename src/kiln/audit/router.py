"""Read-only audit API: query, export and verify. There is deliberately no update or delete."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from kiln.audit import chain, service
from kiln.audit.schemas import AuditRecordRead, ChainVerification
from kiln.core.actor import Actor
from kiln.core.deps import DatabaseDep, SessionDep, require
from kiln.core.errors import Invalid
from kiln.core.http import error_responses
from kiln.core.permissions import Permission

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=error_responses(401, 403, 422, 429))

AuditRead = Annotated[Actor, Depends(require(Permission.audit_read))]


def _query(
    actor_id: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> service.AuditQuery:
    return service.AuditQuery(actor_id, action, target_type, target_id, since, until)


Filters = Annotated[service.AuditQuery, Depends(_query)]


@router.get("", response_model=list[AuditRecordRead])
def list_records(
    actor: AuditRead,
    session: SessionDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[int | None, Query(ge=1, le=service.MAX_SEQ)] = None,
) -> list[AuditRecordRead]:
    """Newest first; page with ``before_seq`` set to the last ``seq`` of the previous page."""
    return [
        AuditRecordRead.model_validate(r)
        for r in service.query_records(session, filters, limit=limit, before_seq=before_seq)
    ]


@router.get("/export", response_class=StreamingResponse)
def export_records(
    actor: AuditRead, db: DatabaseDep, filters: Filters, format: Literal["jsonl", "csv"] = "jsonl"
) -> StreamingResponse:
    def lines() -> Iterator[str]:
        with db.unit_of_work() as session:
            yield from service.export_records(session, filters, fmt=format)

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        lines(),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="kiln-audit.{format}"'},
    )


@router.get("/verify", response_model=ChainVerification)
def verify(
    actor: AuditRead,
    session: SessionDep,
    expect_head: Annotated[
        str | None, Query(max_length=100, description="SEQ:HASH of a head recorded earlier")
    ] = None,
) -> ChainVerification:
    try:
        expected = chain.parse_head(expect_head) if expect_head else None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return ChainVerification.model_validate(chain.verify_chain(session, expect_head=expected))
