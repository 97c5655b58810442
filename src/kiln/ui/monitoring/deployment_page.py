"""One deployment's monitoring page: charts over time, training vs live (for the served version
and, in a table, every version that served), drift per feature, open incidents; each chart's
data as CSV; and ``live.json``, which ``kiln.js`` fetches every few seconds to update the numbers
and redraw the charts without reloading the page.

Live updates are a fetch-based refresh rather than server-sent events: each refresh is one short,
authenticated request like any page (the session cookie, 404 to non-members), so no worker thread
or database session is held open per viewer, and nothing needs to notice a closed tab.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.ids import utcnow
from kiln.monitoring import drift_service
from kiln.monitoring.drift_schemas import DriftReport
from kiln.storage.deps import get_store
from kiln.ui.monitoring.deployment_view import DeploymentView, load_view
from kiln.ui.monitoring.drift_view import drift_csv
from kiln.ui.monitoring.metric_view import BY_SLUG, QUALITY, chart_table, shown, table_csv
from kiln.ui.monitoring.page_params import Feature, MonitorsPage, Window
from kiln.ui.monitoring.stored_drift_view import advice, load_stored_drift
from kiln.ui.monitoring.version_view import version_rows
from kiln.ui.monitoring.windows import WINDOWS, WindowChoice, window_choice
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# How often the page asks for fresh numbers; the tick computes windows once a minute.
REFRESH_SECONDS = 5
LIVE_METRICS = ("requests", "latency_p50", "latency_p95", "latency_p99", "error_rate", *QUALITY)


class ChartSlug(StrEnum):
    volume = "volume"
    latency = "latency"
    errors = "errors"
    quality = "quality"


def monitoring_href(name: str) -> str:
    return f"/monitoring/deployments/{quote(name, safe='')}"


def live_values(view: DeploymentView) -> dict[str, str]:
    """The page's changing numbers by ``data-live-key``, formatted as the page prints them."""
    values = {
        f"latest:{metric}": shown(metric, view.latest[metric].value if metric in view.latest else None)
        for metric in LIVE_METRICS
    }
    end = view.latest_end
    values["latest:window-end"] = end.strftime("%Y-%m-%d %H:%M UTC") if end else "no window yet"
    values["open-incidents"] = str(len(view.incidents))
    return values


def _drift_report(request: Request, actor: Actor, name: str, window: WindowChoice) -> DriftReport:
    """Drift over the charts' range (the service reads at most its cap of logged requests)."""
    end = utcnow()
    with get_db(request).unit_of_work() as session:
        return drift_service.deployment_drift(
            session, actor, get_store(request), name, start=end - window.span, end=end
        )


def _drift(
    request: Request, actor: Actor, name: str, window: WindowChoice
) -> tuple[DriftReport | None, str | None]:
    try:
        return _drift_report(request, actor, name, window), None
    except KilnError as exc:  # no reference sample, most often: the page says why instead
        return None, exc.message


@router.get("/monitoring/deployments/{name}", response_class=HTMLResponse)
def deployment_page(
    request: Request, actor: MonitorsPage, name: str, window: Window = "", feature: Feature = ""
) -> HTMLResponse:
    chosen = window_choice(window)
    with get_db(request).unit_of_work() as session:
        view = load_view(session, actor, name, chosen, utcnow())
        stored = load_stored_drift(session, actor, name, chosen, feature or None)
        versions = version_rows(session, actor, view.deployment, utcnow())
    # Drift computed on request only while no report is stored: it reads the log, a report does not.
    drift, drift_error = (None, None) if stored.latest else _drift(request, actor, name, chosen)
    href = monitoring_href(name)
    charts = [table.payload() for table in view.tables]
    charts += [table.payload() for table in (stored.scores, stored.histogram) if table is not None]
    return render(
        request,
        "monitoring/deployment.html",
        {
            "section": "monitoring",
            "view": view,
            "versions": versions,
            "deployment": view.deployment,
            "href": href,
            "window": chosen,
            "windows": WINDOWS,
            "charts": charts,
            "tables": view.tables,
            "stored": stored,
            "advice": advice(stored.latest) if stored.latest else [],
            "values": live_values(view),
            # Classifiers show accuracy, precision, ...; regressors MAE, RMSE, R²; accuracy before any.
            "quality_shown": [metric for metric in QUALITY if metric in view.latest] or ["accuracy"],
            "drift": drift,
            "drift_error": drift_error,
            "live_url": f"{href}/live.json?window={chosen.key}",
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


@router.get("/monitoring/deployments/{name}/live.json")
def live(request: Request, actor: MonitorsPage, name: str, window: Window = "") -> Response:
    """The latest numbers and the charts' data, for the page's refresh."""
    with get_db(request).unit_of_work() as session:
        view = load_view(session, actor, name, window_choice(window), utcnow(), full=False)
    body = {
        "values": live_values(view),
        "charts": [table.payload() for table in view.tables],
    }
    return JSONResponse(body, headers={"cache-control": "no-store"})


@router.get("/monitoring/deployments/{name}/charts/{chart}.csv")
def chart_csv(
    request: Request, actor: MonitorsPage, name: str, chart: ChartSlug, window: Window = ""
) -> Response:
    """One chart's data, as drawn: a row per window, a column per series."""
    chosen = window_choice(window)
    with get_db(request).unit_of_work() as session:
        view = load_view(session, actor, name, chosen, utcnow())
    table = next((table for table in view.tables if table.spec.slug == chart.value), None)
    if table is None:
        table = chart_table(BY_SLUG[chart.value], {})
    return Response(
        table_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}-{chart.value}-{chosen.key}.csv"'},
    )


@router.get("/monitoring/deployments/{name}/drift.csv")
def drift_table_csv(request: Request, actor: MonitorsPage, name: str, window: Window = "") -> Response:
    """The drift table, every measure per feature (the error page says why when drift cannot be computed)."""
    chosen = window_choice(window)
    report = _drift_report(request, actor, name, chosen)
    return Response(
        drift_csv(report.features),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}-drift-{chosen.key}.csv"'},
    )
