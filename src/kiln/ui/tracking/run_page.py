"""Page: one run — its record, params, metrics with charts, artifacts, environment and how to reproduce it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import NotFound
from kiln.core.permissions import Permission
from kiln.tracking import artifacts, history, reads, reproduce, service
from kiln.tracking.schemas import ArtifactRead
from kiln.ui.charts import Chart, charts_json, series_from_history
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render
from kiln.ui.tracking.environment_view import environment_view

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RunsPage = Annotated[Actor, Depends(page_require(Permission.runs_read))]
CHART_POINTS = 1000
# Each chart is one history query; a run with hundreds of metric keys charts the first ones only.
MAX_CHARTS = 50
# Children listed on the page (an HPO study's hundreds of trials are behind the count's link).
MAX_CHILDREN_LISTED = 20


@dataclass(frozen=True, slots=True)
class LatestValue:
    key: str
    value: float
    step: int
    element_id: str | None


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, actor: RunsPage, run_id: str) -> HTMLResponse:
    db = get_db(request)
    with db.unit_of_work() as session:
        row = service.get_run(session, actor, run_id, with_environment=True)
        run = reads.run_read(row)
        experiment = reads.experiment_read(session, service.get_experiment(session, actor, row.experiment_id))
        parent = (
            reads.run_read(service.get_run(session, actor, row.parent_run_id)) if row.parent_run_id else None
        )
        children = service.count_child_runs(session, actor, run_id)
        listed = (
            [
                reads.run_read(child)
                for child in service.child_runs(session, actor, run_id, limit=MAX_CHILDREN_LISTED)
            ]
            if children
            else []
        )
        charts: list[Chart] = []
        latest: list[LatestValue] = []
        for index, metric in enumerate(row.latest_metrics):
            element_id = f"chart-{index}" if index < MAX_CHARTS else None
            # A NaN is stored as NULL.
            value = float("nan") if metric.value is None else metric.value
            latest.append(LatestValue(metric.key, value, metric.step, element_id))
            if element_id is None:
                continue
            try:
                points = history.metric_history(session, actor, run_id, metric.key, max_points=CHART_POINTS)
            except NotFound:
                continue
            charts.append(Chart(metric.key, element_id, [series_from_history(points, name=run.name)]))
        files = [ArtifactRead.model_validate(a) for a in artifacts.list_artifacts(session, actor, run_id)]
        reproduction = reproduce.reproduce_run(session, actor, run_id)
        environment = environment_view(row.environment or {})
    return render(
        request,
        "tracking/run.html",
        {
            "section": "experiments",
            "run": run,
            "experiment": experiment,
            "parent": parent,
            "child_count": children,
            "children": listed,
            "latest": latest,
            "charts": charts,
            "charts_json": charts_json(charts),
            "max_charts": MAX_CHARTS,
            "artifacts": files,
            "environment": environment,
            "reproduction": reproduction,
        },
    )
