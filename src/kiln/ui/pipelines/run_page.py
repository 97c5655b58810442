"""One pipeline run: its state and error, a drawing of its DAG with each step's state, every step's
state, attempts, timings and resources, a timeline (each step's bar from its start to its end, on
the run's time scale), and the tail of each step's log.

While the run is queued or running, ``kiln.js`` polls ``live.json`` (the monitoring pages' live
refresh): the changing parts come back rendered by the same macros as the page, from the same
``RunView``, and the answer that finds the run ended says so, which stops the polling.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import HTMLResponse, JSONResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.permissions import Permission
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.pipelines.run_view import RunView, load_run_view
from kiln.ui.templating import render, templates

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PipelinesPage = Annotated[Actor, Depends(page_require(Permission.pipelines_read))]
PipelineName = Annotated[str, Path(max_length=128)]
RunId = Annotated[str, Path(max_length=36)]
# Steps take seconds to minutes; a poll is one short read of the run's rows.
REFRESH_SECONDS = 2


def run_href(name: str, run_id: str) -> str:
    return f"/pipelines/{quote(name, safe='')}/runs/{quote(run_id, safe='')}"


def live_body(view: RunView) -> dict[str, Any]:
    """What the page's live refresh applies: texts by ``data-live-key``, rendered parts by
    ``data-live-fragment``, and ``final`` (the status line's last words) once the run has ended."""
    parts = templates.env.get_template("pipelines/run_parts.html").module
    badges = templates.env.get_template("pipelines/macros.html").module
    drawing = templates.env.get_template("pipelines/dag.html").module
    values: dict[str, str] = {}
    for log in view.logs:
        values[f"log:{log.step}"] = log.text
        values[f"log-count:{log.step}"] = log.count
    run = view.run
    fragments = {
        "run-state": badges.state_badge(run.state.value),  # type: ignore[attr-defined]
        "run-facts": parts.run_facts(run),  # type: ignore[attr-defined]
        "run-error": parts.run_error(run),  # type: ignore[attr-defined]
        "run-steps": parts.step_rows(run),  # type: ignore[attr-defined]
        "run-timeline": parts.timeline(view.bars),  # type: ignore[attr-defined]
        "run-dag": drawing.dag_svg(view.drawing, view.states, view.states),  # type: ignore[attr-defined]
    }
    body: dict[str, Any] = {
        "values": values,
        "fragments": {key: str(html) for key, html in fragments.items()},
    }
    if view.ended:
        body["final"] = f"The run has {run.state.value}; the page no longer updates."
    return body


@router.get("/pipelines/{name}/runs/{run_id}", response_class=HTMLResponse)
def run_detail(request: Request, actor: PipelinesPage, name: PipelineName, run_id: RunId) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        view = load_run_view(session, actor, name, run_id)
    return render(
        request,
        "pipelines/run.html",
        {
            "section": "pipelines",
            "view": view,
            "run": view.run,
            "live_url": f"{run_href(name, run_id)}/live.json",
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


@router.get("/pipelines/{name}/runs/{run_id}/live.json")
def run_live(request: Request, actor: PipelinesPage, name: PipelineName, run_id: RunId) -> JSONResponse:
    """The run's changing parts, for the page's refresh; 404 like the page to non-members."""
    with get_db(request).unit_of_work() as session:
        view = load_run_view(session, actor, name, run_id)
    return JSONResponse(live_body(view), headers={"cache-control": "no-store"})
