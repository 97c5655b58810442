"""Pages: the experiment list and one experiment's runs table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import Invalid
from kiln.core.pagination import PageParams, decode_cursor
from kiln.core.permissions import Permission
from kiln.tracking import reads, search, service
from kiln.tracking.schemas import RunRead
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with
from kiln.ui.tracking import runs_table

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ExperimentsPage = Annotated[Actor, Depends(page_require(Permission.experiments_read))]
EXPERIMENTS_PER_PAGE = 100


@router.get("/experiments", response_class=HTMLResponse)
def experiment_list(request: Request, actor: ExperimentsPage, cursor: str = "") -> HTMLResponse:
    db = get_db(request)
    params = PageParams(limit=EXPERIMENTS_PER_PAGE, cursor=cursor or None)
    with db.unit_of_work() as session:
        page = reads.experiment_page(session, service.list_experiments(session, actor, params))
    next_href = url_with("/experiments", cursor=page.next_cursor) if page.next_cursor else None
    return render(
        request,
        "tracking/experiments.html",
        {
            "section": "experiments",
            "experiments": page.items,
            "next_href": next_href,
            "offset": decode_cursor(params.cursor),
        },
    )


@router.get("/experiments/{experiment_id}", response_class=HTMLResponse)
def experiment_page(
    request: Request,
    actor: ExperimentsPage,
    experiment_id: str,
    filter: str = "",
    order_by: str = "",
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=runs_table.MAX_PAGE_SIZE)] = runs_table.DEFAULT_PAGE_SIZE,
) -> HTMLResponse:
    db = get_db(request)
    path = f"/experiments/{experiment_id}"
    query = runs_table.TableQuery(
        filter=filter.strip(), order_by=order_by.strip(), limit=limit, cursor=cursor.strip()
    )
    error: str | None = None
    runs: list[RunRead] = []
    total = 0
    next_cursor: str | None = None
    with db.unit_of_work() as session:
        experiment = reads.experiment_read(session, service.get_experiment(session, actor, experiment_id))
        try:
            # Only one page of runs is ever loaded, however many the experiment holds.
            page = search.list_runs(
                session,
                actor,
                PageParams(limit=query.limit, cursor=query.cursor or None),
                experiment_ids=[experiment_id],
                filter=query.filter or None,
                order_by=query.order_by or None,
            )
        except Invalid as exc:
            # A mistyped filter is the user's to fix: keep the page and the filter box, show why.
            error = exc.message
        else:
            runs = reads.run_page(page).items
            total, next_cursor = page.total or 0, page.next_cursor
    params = runs_table.param_columns(runs)
    metrics = runs_table.metric_columns(runs)
    columns = [*runs_table.RUN_COLUMNS, *params, *metrics]
    context: dict[str, Any] = {
        "section": "experiments",
        "experiment": experiment,
        "runs": runs,
        "query": query,
        "error": error,
        "headers": runs_table.header_cells(path, columns, query),
        "param_count": len(params),
        "metric_count": len(metrics),
        "pager": None
        if error
        else runs_table.pager(path, query, shown=len(runs), total=total, next_cursor=next_cursor),
        "page_size": query.limit,
    }
    return render(request, "tracking/experiment.html", context, status_code=400 if error else 200)
