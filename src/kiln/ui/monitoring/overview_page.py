"""The monitoring overview: one row per active deployment of the caller's projects, with the newest
window's volume, latency, error rate and accuracy, its drift status and its open alerts.

Drift status is the deployment's newest stored drift report (its drifted share, and whether it
recommends retraining) when one exists, else what its built-in drift rule last judged; the page
never recomputes drift for every deployment.
Below the table, comparison charts over the window size's range (requests, latency p99, error
rate, accuracy) draw one series per active deployment, each with its CSV.
``overview.json`` carries the same numbers and charts for the page's refresh.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, JSONResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.ids import utcnow
from kiln.core.pagination import MAX_LIMIT, PageParams
from kiln.core.permissions import Permission
from kiln.monitoring import alert_incidents, alert_rules, drift_history
from kiln.monitoring.alert_schemas import IncidentState, RuleFilter
from kiln.monitoring.drift_schemas import DriftReportSummary
from kiln.monitoring.latest import latest_points
from kiln.monitoring.schemas import MetricPoint
from kiln.serving import deployments
from kiln.serving.deployment_models import Deployment
from kiln.serving.deployment_schemas import DeploymentFilter, DeploymentRead, DeploymentStatus
from kiln.ui.monitoring.comparison_charts import CompareSlug, compare_tables
from kiln.ui.monitoring.metric_view import ChartTable, shown, table_csv
from kiln.ui.monitoring.page_params import MonitorsPage, Window
from kiln.ui.monitoring.windows import WINDOWS, WindowChoice, window_choice
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

COLUMNS = ("requests", "latency_p50", "latency_p95", "latency_p99", "error_rate", "accuracy")
REFRESH_SECONDS = 10


@dataclass(frozen=True, slots=True)
class DriftStatus:
    text: str
    drifted: bool
    detail: str = ""


@dataclass(slots=True)
class OverviewRow:
    deployment: DeploymentRead
    latest: dict[str, MetricPoint]
    drift: DriftStatus
    open_alerts: int

    @property
    def window_end(self) -> datetime | None:
        return max((point.end for point in self.latest.values()), default=None)

    def values(self) -> dict[str, str]:
        name = self.deployment.name
        found = {
            f"{name}:{metric}": shown(metric, self.latest[metric].value if metric in self.latest else None)
            for metric in COLUMNS
        }
        if "accuracy" not in self.latest:
            found[f"{name}:accuracy"] = "no ground truth yet"
        end = self.window_end
        found[f"{name}:window-end"] = end.strftime("%Y-%m-%d %H:%M UTC") if end else "no window yet"
        found[f"{name}:drift"] = self.drift.text
        found[f"{name}:alerts"] = str(self.open_alerts)
        return found


def _drift_statuses(session: Session, actor: Actor) -> dict[str, DriftStatus]:
    rules = alert_rules.list_rules(session, actor, RuleFilter(), PageParams(limit=MAX_LIMIT)).items
    statuses = {}
    for rule in rules:
        if rule.builtin != "drift":
            continue
        if not rule.enabled:
            statuses[rule.deployment] = DriftStatus("not watched (rule disabled)", False)
        elif rule.last_error:
            statuses[rule.deployment] = DriftStatus("cannot be checked", False, rule.last_error)
        elif rule.last_value is None:
            statuses[rule.deployment] = DriftStatus("not checked yet", False)
        else:
            drifted = rule.state == "firing"
            text = f"{rule.last_value:.0%} of features drifted" + (" · alerting" if drifted else "")
            statuses[rule.deployment] = DriftStatus(text, drifted)
    return statuses


def stored_status(report: DriftReportSummary) -> DriftStatus:
    """A stored report's verdict, as the drift column reads."""
    size = "1d" if report.window_seconds == 86_400 else "1h"
    text = f"{report.drifted_share:.0%} of features drifted"
    if report.retrain_recommended:
        text += " · retraining recommended"
    detail = f"stored {size} report of {report.start:%Y-%m-%d %H:%M} UTC"
    return DriftStatus(text, report.retrain_recommended, detail)


def _stored_statuses(session: Session, reads: list[DeploymentRead]) -> dict[str, DriftStatus]:
    newest = drift_history.newest_reports(session, [(read.project_id, read.name) for read in reads])
    return {name: stored_status(DriftReportSummary.model_validate(row)) for (_, name), row in newest.items()}


def active_deployments(session: Session, actor: Actor) -> list[Deployment]:
    """The active deployments of the caller's projects (the service scopes them)."""
    return deployments.list_deployments(
        session, actor, DeploymentFilter(status=DeploymentStatus.active), PageParams(limit=MAX_LIMIT)
    ).items


def overview_rows(
    session: Session, actor: Actor, window: WindowChoice, active: list[Deployment]
) -> list[OverviewRow]:
    reads = deployments.describe(session, active)
    latest = latest_points(session, active, seconds=window.seconds, now=utcnow())
    drift: dict[str, DriftStatus] = {}
    alerts: Counter[str] = Counter()
    if actor.may(Permission.alerts_read):
        drift = _drift_statuses(session, actor)
        firing = alert_incidents.list_incidents(
            session, actor, PageParams(limit=MAX_LIMIT), state=IncidentState.firing
        ).items
        alerts.update(incident.deployment for incident in firing)
    drift |= _stored_statuses(session, reads)
    unknown = DriftStatus("not watched", False)
    return [
        OverviewRow(read, latest[read.name], drift.get(read.name, unknown), alerts[read.name])
        for read in reads
    ]


def _overview(
    session: Session, actor: Actor, window: WindowChoice
) -> tuple[list[OverviewRow], list[ChartTable]]:
    """The table's rows and the comparison charts with something to draw, in page order."""
    active = active_deployments(session, actor)
    tables = compare_tables(session, active, window, utcnow()).values()
    return overview_rows(session, actor, window, active), [t for t in tables if t.starts and t.columns]


@router.get("/monitoring", response_class=HTMLResponse)
def overview(request: Request, actor: MonitorsPage, window: Window = "") -> HTMLResponse:
    chosen = window_choice(window)
    with get_db(request).unit_of_work() as session:
        rows, tables = _overview(session, actor, chosen)
    return render(
        request,
        "monitoring/overview.html",
        {
            "section": "monitoring",
            "rows": rows,
            "compare": tables,
            "charts": [table.payload() for table in tables],
            "window": chosen,
            "windows": WINDOWS,
            "live_url": f"/monitoring/overview.json?window={chosen.key}",
            "refresh_seconds": REFRESH_SECONDS,
            "can_alerts": actor.may(Permission.alerts_read),
        },
    )


@router.get("/monitoring/overview.json")
def overview_json(request: Request, actor: MonitorsPage, window: Window = "") -> Response:
    chosen = window_choice(window)
    with get_db(request).unit_of_work() as session:
        rows, tables = _overview(session, actor, chosen)
    values: dict[str, str] = {}
    for row in rows:
        values |= row.values()
    charts = [table.payload() for table in tables]
    return JSONResponse({"values": values, "charts": charts}, headers={"cache-control": "no-store"})


@router.get("/monitoring/charts/{chart}.csv")
def compare_csv(request: Request, actor: MonitorsPage, chart: CompareSlug, window: Window = "") -> Response:
    """One comparison chart's data, as drawn: a row per window, a column per deployment."""
    chosen = window_choice(window)
    with get_db(request).unit_of_work() as session:
        table = compare_tables(session, active_deployments(session, actor), chosen, utcnow())[chart]
    return Response(
        table_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="deployments-{chart.value}-{chosen.key}.csv"'},
    )
