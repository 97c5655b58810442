"""Page: the audit trail, filtered and paged newest first, with exports and a check of the hash chain."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from kiln.audit import chain
from kiln.audit import service as audit
from kiln.audit.schemas import AuditFilter, AuditRecordRead, ChainVerification
from kiln.auth import service as accounts
from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.pagination import MAX_CURSOR_LENGTH, MAX_KEY, PageParams, encode_keyset
from kiln.core.permissions import Permission
from kiln.ui.forms import validation_message
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AuditPage = Annotated[Actor, Depends(page_require(Permission.audit_read))]
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class FilterForm:
    """The filter form as typed (times in UTC, as the page shows them)."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: str = ""
    until: str = ""

    def params(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value}


def _audit_filter(request: Request, form: FilterForm) -> AuditFilter:
    """The form as the audit service's filter. The actor field takes an account's email (that user's
    actions, also with their keys) as well as any actor id (a user, an API key, 'system')."""
    actor_id = user_id = None
    if "@" in form.actor:
        with get_db(request).unit_of_work() as session:
            user = accounts.find_user_by_email(session, form.actor)
        user_id = user.id if user else None
        actor_id = None if user else form.actor  # an unknown address matches nothing, visibly
    else:
        actor_id = form.actor or None
    return AuditFilter(
        actor_id=actor_id,
        user_id=user_id,
        action=form.action,
        target_type=form.target_type,
        target_id=form.target_id,
        since=form.since,
        until=form.until,
    )


def export_url(filters: AuditFilter, fmt: str) -> str:
    """The API's export route, with the same filters; the browser's session cookie authenticates it."""
    return url_with("/api/v1/audit/export", format=fmt, **filters.query_params())


@router.get("/audit")
def audit_page(
    request: Request,
    actor: AuditPage,
    action: str = "",
    target_type: str = "",
    target_id: str = "",
    since: str = "",
    until: str = "",
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
    # Links of earlier releases paged with ?before=<seq>; they still work.
    before: Annotated[int | None, Query(ge=1, le=MAX_KEY)] = None,
    verify: bool = False,
) -> Response:
    # ``actor`` is the logged-in user, as in every page route; the actor filter arrives as ?actor=.
    form = FilterForm(
        actor=request.query_params.get("actor", "").strip()[:320],
        action=action.strip()[:64],
        target_type=target_type.strip()[:64],
        target_id=target_id.strip()[:256],
        since=since.strip()[:40],
        until=until.strip()[:40],
    )
    page = PageParams(limit=PAGE_SIZE, cursor=cursor or (encode_keyset(before) if before else None))
    error: str | None = None
    records: list[AuditRecordRead] = []
    next_cursor: str | None = None
    verification: ChainVerification | None = None
    try:
        filters = _audit_filter(request, form)
    except ValidationError as exc:
        error, filters = validation_message(exc), AuditFilter()
    with get_db(request).unit_of_work() as session:
        if error is None:
            found = audit.list_records(session, filters, page)
            records = [AuditRecordRead.model_validate(row) for row in found.items]
            next_cursor = found.next_cursor
        if verify:
            verification = chain.verify_chain(session)
    params = form.params()
    return render(
        request,
        "audit/audit.html",
        {
            "section": "audit",
            "filters": form,
            "error": error,
            "records": records,
            "paged": page.cursor is not None,
            "newest_href": url_with("/audit", **params),
            "older_href": url_with("/audit", **params, cursor=next_cursor) if next_cursor else None,
            "csv_href": export_url(filters, "csv"),
            "jsonl_href": export_url(filters, "jsonl"),
            "verify_href": url_with("/audit", **params, verify="1"),
            "verification": verification,
        },
        status_code=400 if error else 200,
    )
