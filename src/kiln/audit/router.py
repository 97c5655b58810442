"""Read-only audit API: query, export and verify. There is deliberately no update or delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from kiln.audit import chain, service
from kiln.audit.schemas import AuditFilter, AuditRecordRead, ChainVerification
from kiln.core.actor import Actor
from kiln.core.deps import DatabaseDep, SessionDep, require
from kiln.core.errors import Invalid
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.pagination import PageParams, encode_keyset
from kiln.core.permissions import Permission
from kiln.core.schemas import Page

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=error_responses(401, 403, 422, 429))

AuditRead = Annotated[Actor, Depends(require(Permission.audit_read))]


Filters = Annotated[AuditFilter, Query()]


@router.get("", response_model=Page[AuditRecordRead])
def list_records(
    actor: AuditRead,
    session: SessionDep,
    filters: Filters,
    page: PageQuery,
    before_seq: Annotated[
        int | None,
        Query(
            ge=1,
            le=service.MAX_SEQ,
            deprecated=True,
            description="use cursor (the previous page's next_cursor)",
        ),
    ] = None,
) -> Page[AuditRecordRead]:
    """Newest first; follow ``next_cursor`` for older records."""
    if before_seq is not None and page.cursor is None:
        page = PageParams(limit=page.limit, cursor=encode_keyset(before_seq))
    found = service.list_records(session, filters, page)
    return found.with_items([AuditRecordRead.model_validate(r) for r in found.items])


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
    return chain.verify_chain(session, expect_head=expected)
