"""Page: runs side by side — params (differences marked), final metrics (best marked), overlaid curves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import Invalid, NotFound
from kiln.core.permissions import Permission
from kiln.tracking import compare, history, service
from kiln.tracking.schemas import ExperimentRead
from kiln.ui.charts import Chart, charts_json, series_from_history
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RunsPage = Annotated[Actor, Depends(page_require(Permission.runs_read))]
CHART_POINTS = 500
# Every curve is one history query: bound their number for wide comparisons.
MAX_CURVES = 400
MAX_CHARTS = 24


def parse_ids(values: list[str]) -> list[str]:
    """Accept ``ids=a,b`` (a shared link) and ``ids=a&ids=b`` (the runs table's checkboxes)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request, actor: RunsPage, ids: Annotated[list[str] | None, Query()] = None
) -> HTMLResponse:
    run_ids = parse_ids(ids or [])
    if not run_ids:
        raise Invalid(
            "choose runs to compare: tick them in an experiment's runs table, or open /compare?ids=a,b"
        )
    db = get_db(request)
    with db.unit_of_work() as session:
        comparison = compare.compare_runs(session, actor, run_ids)
        experiments = {
            experiment_id: ExperimentRead.model_validate(
                service.get_experiment(session, actor, experiment_id)
            )
            for experiment_id in dict.fromkeys(run.experiment_id for run in comparison.runs)
        }
        per_chart = max(1, len(comparison.runs))
        chart_keys = comparison.metric_keys[: max(1, min(MAX_CHARTS, MAX_CURVES // per_chart))]
        charts: list[Chart] = []
        for index, key in enumerate(chart_keys):
            chart = Chart(key, f"chart-{index}")
            for run in comparison.runs:
                if key not in run.metrics:
                    continue
                try:
                    points = history.metric_history(session, actor, run.id, key, max_points=CHART_POINTS)
                except NotFound:
                    continue
                chart.series.append(series_from_history(points, name=run.name, band=False))
            charts.append(chart)
    lower_better = {key: compare.lower_is_better(key) for key in comparison.metric_keys}
    return render(
        request,
        "tracking/compare.html",
        {
            "section": "experiments",
            "comparison": comparison,
            "experiments": experiments,
            "differing": set(comparison.differing_params),
            "lower_better": lower_better,
            "charts": charts,
            "charts_json": charts_json(charts),
            "charted_all": len(chart_keys) == len(comparison.metric_keys),
            "single_experiment": next(iter(experiments.values())) if len(experiments) == 1 else None,
        },
    )
