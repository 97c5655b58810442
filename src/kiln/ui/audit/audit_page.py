"""Page: the audit trail, filtered and paged newest first, with exports and a check of the hash chain."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from kiln.audit import chain
from kiln.audit import service as audit
from kiln.audit.schemas import AuditRecordRead, ChainVerification
from kiln.auth import service as accounts
from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import Invalid
from kiln.core.permissions import Permission
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AuditPage = Annotated[Actor, Depends(page_require(Permission.audit_read))]
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """The filter form as typed (times in UTC, as the page shows them)."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: str = ""
    until: str = ""

    def params(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value}


def parse_time(value: str, label: str) -> datetime | None:
    """``2024-05-01``, ``2024-05-01T13:30`` (what a datetime-local input sends) or full ISO 8601; UTC unless
    the value says otherwise."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{label}: {value!r} is not a date and time like 2024-05-01T13:30") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _actor_id(request: Request, value: str) -> str:
    """The actor filter takes an account's email as well as any actor id (a user, an API key, 'system')."""
    if "@" not in value:
        return value
    with get_db(request).unit_of_work() as session:
        user = accounts.find_user_by_email(session, value)
        return user.id if user else value


def _query(request: Request, filters: AuditFilters) -> audit.AuditQuery:
    return audit.AuditQuery(
        actor_id=_actor_id(request, filters.actor) if filters.actor else None,
        action=filters.action or None,
        target_type=filters.target_type or None,
        target_id=filters.target_id or None,
        since=parse_time(filters.since, "from"),
        until=parse_time(filters.until, "until"),
    )


def export_url(query: audit.AuditQuery, fmt: str) -> str:
    """The API's export route, with the same filters; the browser's session cookie authenticates it."""
    return url_with(
        "/api/v1/audit/export",
        format=fmt,
        actor_id=query.actor_id,
        action=query.action,
        target_type=query.target_type,
        target_id=query.target_id,
        since=query.since.isoformat() if query.since else None,
        until=query.until.isoformat() if query.until else None,
    )


@router.get("/audit")
def audit_page(
    request: Request,
    actor: AuditPage,
    action: str = "",
    target_type: str = "",
    target_id: str = "",
    since: str = "",
    until: str = "",
    before: Annotated[int | None, Query(ge=1, le=audit.MAX_SEQ)] = None,
    verify: bool = False,
) -> Response:
    # ``actor`` is the logged-in user, as in every page route; the actor filter arrives as ?actor=.
    filters = AuditFilters(
        actor=request.query_params.get("actor", "").strip()[:320],
        action=action.strip()[:64],
        target_type=target_type.strip()[:64],
        target_id=target_id.strip()[:256],
        since=since.strip()[:40],
        until=until.strip()[:40],
    )
    error: str | None = None
    records: list[AuditRecordRead] = []
    more = False
    verification: ChainVerification | None = None
    try:
        query = _query(request, filters)
    except Invalid as exc:
        error, query = exc.message, audit.AuditQuery()
    with get_db(request).unit_of_work() as session:
        if error is None:
            rows = audit.query_records(session, query, limit=PAGE_SIZE + 1, before_seq=before)
            more = len(rows) > PAGE_SIZE
            records = [AuditRecordRead.model_validate(row) for row in rows[:PAGE_SIZE]]
        if verify:
            verification = ChainVerification.model_validate(chain.verify_chain(session))
    params = filters.params()
    return render(
        request,
        "audit/audit.html",
        {
            "section": "audit",
            "filters": filters,
            "error": error,
            "records": records,
            "paged": before is not None,
            "newest_href": url_with("/audit", **params),
            "older_href": url_with("/audit", **params, before=records[-1].seq) if more and records else None,
            "csv_href": export_url(query, "csv"),
            "jsonl_href": export_url(query, "jsonl"),
            "verify_href": url_with("/audit", **params, verify="1"),
            "verification": verification,
        },
        status_code=400 if error else 200,
    )
