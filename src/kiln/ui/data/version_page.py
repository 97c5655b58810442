"""One dataset version: what it holds (statistics), how it came (source, who, parent), what changed
against its parent, its quality checks and the rows the rules refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import HTMLResponse

from kiln.core.deps import get_db
from kiln.data import access, reads, versions
from kiln.ui.data.dataset_page import dataset_href
from kiln.ui.data.page_params import DataPage, Project
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/datasets/{name}/versions/{number}", response_class=HTMLResponse)
def version_page(
    request: Request,
    actor: DataPage,
    name: str,
    number: Annotated[int, Path(ge=1, le=2**31)],
    project: Project = None,
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        dataset = access.get_dataset(session, actor, name, project=project)
        version = reads.version_read(dataset, versions.get_version(session, dataset, number))
        read = reads.dataset_read(dataset)
    api = f"/api/v1/datasets/{read.name}/versions/{version.number}/download?project={read.project_id}"
    return render(
        request,
        "data/version.html",
        {
            "section": "data",
            "dataset": read,
            "dataset_href": dataset_href(read),
            "version": version,
            "download_parquet": f"{api}&format=parquet&allow_failed=true",
            "download_csv": f"{api}&format=csv&allow_failed=true",
        },
    )
