"""One dataset: its declared schema and rules, its versions, the latest version's statistics, and
its quality over the versions as charts (and as CSV)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.pagination import PageParams
from kiln.data import access, reads, versions
from kiln.data.schemas import DatasetRead, DatasetVersionRead
from kiln.ui.data import quality_view
from kiln.ui.data.page_params import DataPage, Project
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The trend covers this many newest versions (the table pages through all of them on the API).
TREND_VERSIONS = 100


def dataset_href(dataset: DatasetRead) -> str:
    return f"/datasets/{dataset.name}?project={dataset.project_id}"


def _load(
    request: Request, actor: Actor, name: str, project: str | None
) -> tuple[DatasetRead, list[DatasetVersionRead]]:
    with get_db(request).unit_of_work() as session:
        dataset = access.get_dataset(session, actor, name, project=project)
        newest = versions.list_versions(session, dataset, PageParams(limit=TREND_VERSIONS))
        return reads.dataset_read(dataset), reads.version_page(dataset, newest).items


@router.get("/datasets/{name}", response_class=HTMLResponse)
def dataset_page(request: Request, actor: DataPage, name: str, project: Project = None) -> HTMLResponse:
    dataset, newest = _load(request, actor, name, project)
    points = quality_view.trend(newest)
    return render(
        request,
        "data/dataset.html",
        {
            "section": "data",
            "dataset": dataset,
            "href": dataset_href(dataset),
            "versions": newest,
            "latest": newest[0] if newest else None,
            "charts": quality_view.trend_charts(points) if len(points) > 1 else [],
            "trend_csv_href": f"/datasets/{dataset.name}/quality.csv?project={dataset.project_id}",
        },
    )


@router.get("/datasets/{name}/quality.csv")
def quality_csv(request: Request, actor: DataPage, name: str, project: Project = None) -> Response:
    dataset, newest = _load(request, actor, name, project)
    return Response(
        quality_view.trend_csv(quality_view.trend(newest)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{dataset.name}-quality.csv"'},
    )
