"""One pipeline run: its state and error, every step's state, attempts, timings, resources and a
timeline (each step's bar from its start to its end, on the run's time scale), and the step logs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.permissions import Permission
from kiln.pipelines import runs
from kiln.pipelines.schemas import PipelineRunRead, StepLog
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PipelinesPage = Annotated[Actor, Depends(page_require(Permission.pipelines_read))]


def timeline(run: PipelineRunRead) -> list[dict[str, Any]]:
    """Each step that started, as a bar: offset and width in percent of the run's span."""
    started = [step for step in run.steps if step.started_at is not None]
    if not started:
        return []
    begin = min(step.started_at for step in started if step.started_at is not None)
    ends = [step.finished_at or step.started_at for step in started]
    end = max(moment for moment in ends if moment is not None)
    span = max((end - begin).total_seconds(), 1e-6)
    bars = []
    for step in started:
        assert step.started_at is not None
        finish = step.finished_at or end
        offset = (step.started_at - begin).total_seconds() / span * 100
        width = max((finish - step.started_at).total_seconds() / span * 100, 0.5)
        bars.append(
            {"name": step.name, "state": step.state.value, "left": round(offset, 2), "width": round(width, 2)}
        )
    return bars


@router.get("/pipelines/{name}/runs/{run_id}", response_class=HTMLResponse)
def run_detail(
    request: Request,
    actor: PipelinesPage,
    name: Annotated[str, Path(max_length=128)],
    run_id: Annotated[str, Path(max_length=36)],
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        pipeline, run = runs.get_run(session, actor, name, run_id)
        read = runs.run_read(session, pipeline, run)
        logs: list[StepLog] = runs.run_logs(session, actor, name, run_id)
    return render(
        request,
        "pipelines/run.html",
        {"section": "pipelines", "run": read, "bars": timeline(read), "logs": logs},
    )
