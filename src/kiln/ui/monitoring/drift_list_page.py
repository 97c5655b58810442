"""Every stored drift report of a deployment, newest first, a page at a time (``?window=1h|1d``,
``?retrain=yes`` for the reports that recommend retraining); the deployment page shows the newest."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.deps import get_db
from kiln.core.pagination import MAX_CURSOR_LENGTH, PageParams
from kiln.monitoring import drift_reports
from kiln.monitoring.drift_schemas import DriftReportFilter, DriftReportSummary, DriftWindow
from kiln.ui.monitoring.page_params import MonitorsPage
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50


@router.get("/monitoring/deployments/{name}/drift", response_class=HTMLResponse)
def drift_reports_page(
    request: Request,
    actor: MonitorsPage,
    name: str,
    window: DriftWindow | None = None,
    retrain: Annotated[str, Query(max_length=3, description="yes: only reports recommending it")] = "",
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> HTMLResponse:
    filters = DriftReportFilter(window=window, retrain_recommended=True if retrain == "yes" else None)
    page = PageParams(limit=PAGE_SIZE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        found = drift_reports.list_drift_reports(session, actor, name, filters, page)
        reports = [DriftReportSummary.model_validate(row) for row in found.items]
    href = f"/monitoring/deployments/{quote(name, safe='')}"
    params: dict[str, str | int | None] = {
        "window": window.value if window else None,
        "retrain": retrain or None,
    }
    return render(
        request,
        "monitoring/drift_reports.html",
        {
            "section": "monitoring",
            "name": name,
            "href": href,
            "reports": reports,
            "window": window.value if window else "",
            "retrain": retrain == "yes",
            "filter_href": lambda **chosen: url_with(f"{href}/drift", **(params | chosen)),
            "paged": page.cursor is not None,
            "first_href": url_with(f"{href}/drift", **params),
            "next_href": url_with(f"{href}/drift", **params, cursor=found.next_cursor)
            if found.next_cursor
            else None,
        },
    )
