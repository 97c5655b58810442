"""A dataset's quarantine: the rows the rules refused with their reasons, filtered by status, column,
check and rule; a CSV download of what is shown; release or discard of the rows ticked (the API's
services, audited the same way). Releasing with corrected values is the API's, SDK's and CLI's
(``kiln data quarantine release --fixes``): a table of cells is no editor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import Invalid, KilnError
from kiln.core.pagination import MAX_CURSOR_LENGTH, PageParams
from kiln.core.permissions import Permission
from kiln.data import access, quarantine, reads
from kiln.data.ingestion_schemas import (
    QuarantineDiscard,
    QuarantineFilter,
    QuarantineRelease,
    QuarantineStatus,
)
from kiln.notify.deps import get_mailer
from kiln.storage.deps import get_store
from kiln.ui.csrf import FormDep, field
from kiln.ui.data.dataset_page import dataset_href
from kiln.ui.data.page_params import DataPage, Project
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.page_access import form_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ReviewForm = Annotated[Actor, Depends(form_require(Permission.quarantine_review))]
PER_PAGE = 50
CHECKS = ("type", "null", "range", "category", "duplicate", "expression")


def _where(
    status: Annotated[QuarantineStatus, Query()] = QuarantineStatus.pending,
    column: Annotated[str, Query(max_length=512)] = "",
    check: Annotated[str, Query(max_length=16)] = "",
    rule: Annotated[str, Query(max_length=128)] = "",
) -> QuarantineFilter:
    return QuarantineFilter(status=status, column=column or None, check=check or None, rule=rule or None)


Where = Annotated[QuarantineFilter, Depends(_where)]


def _filters(where: QuarantineFilter) -> dict[str, str | None]:
    return {
        "status": where.status.value if where.status else None,
        "column": where.column,
        "check": where.check,
        "rule": where.rule,
    }


def render_quarantine_page(
    request: Request,
    actor: Actor,
    name: str,
    *,
    project: str | None,
    where: QuarantineFilter,
    cursor: str = "",
    error: FormError | None = None,
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        dataset = access.get_dataset(session, actor, name, project=project)
        page = reads.quarantined_page(
            dataset,
            quarantine.list_quarantine(
                session, dataset, where, PageParams(limit=PER_PAGE, cursor=cursor or None)
            ),
        )
        read = reads.dataset_read(dataset)
    base = f"/datasets/{read.name}/quarantine"
    filters = {"project": read.project_id, **_filters(where)}
    return render(
        request,
        "data/quarantine.html",
        {
            "section": "data",
            "dataset": read,
            "dataset_href": dataset_href(read),
            "rows": page.items,
            "total": page.total,
            "where": where,
            "statuses": list(QuarantineStatus),
            "checks": CHECKS,
            "columns": [column.name for column in read.data_schema.columns],
            "action": base,
            "first_href": url_with(base, **filters),
            "paged": bool(cursor),
            "next_href": url_with(base, **filters, cursor=page.next_cursor) if page.next_cursor else None,
            "download_href": url_with(f"/api/v1/datasets/{read.name}/quarantine/download", **filters),
            "can_decide": actor.may(Permission.quarantine_review)
            and where.status is QuarantineStatus.pending,
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/datasets/{name}/quarantine", response_class=HTMLResponse)
def quarantine_page(
    request: Request,
    actor: DataPage,
    name: str,
    where: Where,
    project: Project = None,
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> HTMLResponse:
    return render_quarantine_page(request, actor, name, project=project, where=where, cursor=cursor)


@router.post("/datasets/{name}/quarantine/release")
def release(
    request: Request, actor: ReviewForm, form: FormDep, name: str, project: Project = None
) -> Response:
    return _decide(request, actor, form, name, project, release=True)


@router.post("/datasets/{name}/quarantine/discard")
def discard(
    request: Request, actor: ReviewForm, form: FormDep, name: str, project: Project = None
) -> Response:
    return _decide(request, actor, form, name, project, release=False)


def _decide(
    request: Request, actor: Actor, form: FormDep, name: str, project: str | None, *, release: bool
) -> Response:
    ids = [value for value in form.getlist("ids") if isinstance(value, str) and value][:1_000]
    note = field(form, "note", limit=2_000)
    try:
        with get_db(request).unit_of_work() as session:
            dataset = access.get_dataset(
                session, actor, name, project=project, permission=Permission.quarantine_review
            )
            if not ids:
                raise Invalid("tick the rows to decide first; nothing was decided")
            if release:
                quarantine.release_rows(
                    session,
                    actor,
                    dataset,
                    QuarantineRelease(ids=ids, note=note),
                    store=get_store(request),
                    mailer=get_mailer(request),
                )
            else:
                quarantine.discard_rows(session, actor, dataset, QuarantineDiscard(ids=ids, note=note))
            target = url_with(f"/datasets/{dataset.name}/quarantine", project=dataset.project_id)
    except (KilnError, ValidationError) as exc:
        return render_quarantine_page(
            request, actor, name, project=project, where=QuarantineFilter(), error=form_error(exc)
        )
    return redirect_with_notice(target, "quarantine_released" if release else "quarantine_discarded")
