"""Two versions of a dataset side by side: the change summary the API's diff answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.deps import get_db
from kiln.data import access, reads, versions
from kiln.data.refs import parse_version
from kiln.storage.deps import get_store
from kiln.ui.data.dataset_page import dataset_href
from kiln.ui.data.page_params import DataPage, Project
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/datasets/{name}/diff", response_class=HTMLResponse)
def diff_page(
    request: Request,
    actor: DataPage,
    name: str,
    project: Project = None,
    from_version: Annotated[str, Query(alias="from", max_length=20, description="a number or latest")] = "1",
    to_version: Annotated[str, Query(alias="to", max_length=20, description="a number or latest")] = "latest",
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        dataset = access.get_dataset(session, actor, name, project=project)
        before = versions.get_version(session, dataset, parse_version(from_version))
        after = versions.get_version(session, dataset, parse_version(to_version))
        changes = versions.diff_versions(get_store(request), dataset, before, after)
        read = reads.dataset_read(dataset)
    return render(
        request,
        "data/diff.html",
        {"section": "data", "dataset": read, "dataset_href": dataset_href(read), "changes": changes},
    )
