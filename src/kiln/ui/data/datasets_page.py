"""The datasets of the caller's projects, by name, with their latest version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.deps import get_db
from kiln.core.pagination import MAX_CURSOR_LENGTH, PageParams
from kiln.data import reads, service
from kiln.ui.data.page_params import DataPage
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 50


@router.get("/datasets", response_class=HTMLResponse)
def datasets_list(
    request: Request,
    actor: DataPage,
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        page = reads.dataset_page(
            service.list_datasets(session, actor, PageParams(limit=PER_PAGE, cursor=cursor or None))
        )
    return render(
        request,
        "data/datasets.html",
        {
            "section": "data",
            "datasets": page.items,
            "total": page.total,
            "next_href": url_with("/datasets", cursor=page.next_cursor) if page.next_cursor else None,
        },
    )
