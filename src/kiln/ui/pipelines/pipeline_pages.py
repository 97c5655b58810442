"""The pipelines of the caller's projects, and one pipeline: its steps, drawn as a DAG and listed,
and parameters (latest version or ``?version=``), its version history and its latest runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.pagination import MAX_CURSOR_LENGTH, PageParams
from kiln.core.permissions import Permission
from kiln.pipelines import runs, service
from kiln.pipelines.access import get_pipeline
from kiln.pipelines.schemas import PipelineRead
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.pipelines.dag_view import function_notes, spec_drawing
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PipelinesPage = Annotated[Actor, Depends(page_require(Permission.pipelines_read))]
PipelineName = Annotated[str, Path(max_length=128)]
PER_PAGE = 50
RECENT_RUNS = 20


@router.get("/pipelines", response_class=HTMLResponse)
def pipelines_list(
    request: Request,
    actor: PipelinesPage,
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        page = service.list_pipelines(session, actor, PageParams(limit=PER_PAGE, cursor=cursor or None))
        pipelines = [PipelineRead.model_validate(row) for row in page.items]
    return render(
        request,
        "pipelines/pipelines.html",
        {
            "section": "pipelines",
            "pipelines": pipelines,
            "next_href": url_with("/pipelines", cursor=page.next_cursor) if page.next_cursor else None,
        },
    )


@router.get("/pipelines/{name}", response_class=HTMLResponse)
def pipeline_page(
    request: Request,
    actor: PipelinesPage,
    name: PipelineName,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        pipeline = get_pipeline(session, actor, name)
        shown = service.get_version(session, pipeline, version)
        spec = service.version_spec(shown)
        history = service.list_versions(session, pipeline, PageParams(limit=PER_PAGE)).items
        _, recent = runs.list_runs(session, actor, name, PageParams(limit=RECENT_RUNS))
        run_rows = [runs.run_read(session, pipeline, row, with_steps=False) for row in recent.items]
        context = {
            "section": "pipelines",
            "pipeline": PipelineRead.model_validate(pipeline),
            "version": shown.number,
            "content_hash": shown.content_hash,
            "spec": spec,
            "order": spec.check_graph(),
            "drawing": spec_drawing(spec),
            "notes": function_notes(spec),
            "history": [(row.number, row.content_hash, row.created_by, row.created_at) for row in history],
            "runs": run_rows,
        }
    return render(request, "pipelines/pipeline.html", context)
