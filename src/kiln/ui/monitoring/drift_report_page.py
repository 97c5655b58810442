"""One stored drift report's page (every feature's verdict, measures and histogram) and the CSVs
of the stored-drift charts: each feature's PSI over time, one feature's histogram, the feature table.
Reads go through ``drift_reports`` and ``drift_history``, scoped like the deployment (404 to
non-members)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from kiln.core.deps import get_db
from kiln.core.errors import NotFound
from kiln.monitoring import drift_reports
from kiln.monitoring.drift_schemas import DriftReportRead
from kiln.ui.monitoring.drift_charts import histogram_csv, histogram_table, scores_csv
from kiln.ui.monitoring.drift_view import drift_csv
from kiln.ui.monitoring.page_params import MonitorsPage, Window
from kiln.ui.monitoring.stored_drift_view import advice, drifted_now, load_stored_drift
from kiln.ui.monitoring.windows import window_choice
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Feature = Annotated[str, Query(min_length=1, max_length=256, description="a feature of the report")]


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{quote(filename, safe="")}"'},
    )


def _report(request: Request, actor: MonitorsPage, name: str, report_id: str) -> DriftReportRead:
    with get_db(request).unit_of_work() as session:
        return DriftReportRead.model_validate(drift_reports.get_drift_report(session, actor, name, report_id))


@router.get("/monitoring/deployments/{name}/drift-scores.csv")
def drift_scores_csv(request: Request, actor: MonitorsPage, name: str, window: Window = "") -> Response:
    """The drift-over-time chart's data: a row per stored report's window, a column per feature."""
    chosen = window_choice(window)
    with get_db(request).unit_of_work() as session:
        view = load_stored_drift(session, actor, name, chosen, None)
    if view.scores is None:
        raise NotFound(f"deployment {name!r} has no stored {view.window.value} drift report yet")
    return _csv(scores_csv(view.scores), f"{name}-drift-scores-{view.window.value}.csv")


@router.get("/monitoring/deployments/{name}/drift/{report_id}", response_class=HTMLResponse)
def drift_report_page(request: Request, actor: MonitorsPage, name: str, report_id: str) -> HTMLResponse:
    report = _report(request, actor, name, report_id)
    histograms = [histogram_table(feature, index) for index, feature in enumerate(report.features)]
    return render(
        request,
        "monitoring/drift_report.html",
        {
            "section": "monitoring",
            "name": name,
            "href": f"/monitoring/deployments/{quote(name, safe='')}",
            "report": report,
            "advice": advice(report),
            "highlighted": drifted_now(report),
            "histograms": {table.feature: table for table in histograms if table is not None},
            "charts": [table.payload() for table in histograms if table is not None],
        },
    )


@router.get("/monitoring/deployments/{name}/drift/{report_id}/histogram.csv")
def drift_histogram_csv(
    request: Request, actor: MonitorsPage, name: str, report_id: str, feature: Feature
) -> Response:
    """One feature's reference-vs-current histogram of a stored report, as drawn."""
    report = _report(request, actor, name, report_id)
    found = next((item for item in report.features if item.feature == feature), None)
    table = None if found is None else histogram_table(found, 0)
    if table is None:
        raise NotFound(f"drift report {report_id!r} has no histogram of feature {feature!r}")
    return _csv(histogram_csv(table), f"{name}-drift-{feature}.csv")


@router.get("/monitoring/deployments/{name}/drift/{report_id}/features.csv")
def drift_features_csv(request: Request, actor: MonitorsPage, name: str, report_id: str) -> Response:
    """The report's feature table: every measure per feature, as ``drift.csv`` has it."""
    report = _report(request, actor, name, report_id)
    return _csv(drift_csv(report.features), f"{name}-drift-{report.start:%Y%m%dT%H%M}.csv")
