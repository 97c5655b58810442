"""The incident log (filtered by state and deployment) and one incident: its timeline (breach,
firing, each delivery, acknowledgement, resolution) and the Acknowledge form with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, PageParams
from kiln.core.permissions import Permission
from kiln.monitoring import alert_channels, alert_incidents
from kiln.monitoring.alert_schemas import (
    IncidentAck,
    IncidentDetail,
    IncidentRead,
    IncidentState,
    format_duration,
)
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.monitoring.page_params import AlertsForm, AlertsPage
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
IncidentId = Annotated[str, Path(max_length=36)]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    what: str
    detail: str = ""
    kind: str = ""


@router.get("/alerts/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request,
    actor: AlertsPage,
    state: IncidentState | None = None,
    deployment: Annotated[str, Query(max_length=128)] = "",
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> HTMLResponse:
    page = PageParams(limit=PAGE_SIZE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        found = alert_incidents.list_incidents(
            session, actor, page, state=state, deployment=deployment or None
        )
        items = [IncidentRead.model_validate(row) for row in found.items]
    params = {"state": state.value if state else None, "deployment": deployment or None}
    return render(
        request,
        "monitoring/incidents.html",
        {
            "section": "alerts",
            "incidents": items,
            "state": state.value if state else "",
            "deployment": deployment,
            "states": [item.value for item in IncidentState],
            "paged": page.cursor is not None,
            "first_href": url_with("/alerts/incidents", **params),
            "next_href": url_with("/alerts/incidents", **params, cursor=found.next_cursor)
            if found.next_cursor
            else None,
        },
    )


def timeline(incident: IncidentDetail, channel_names: dict[str, str]) -> list[TimelineEntry]:
    """What happened to the incident, oldest first."""
    condition = f"{incident.metric} {incident.comparison.value} {incident.threshold:g}"
    held = format_duration(incident.duration_seconds)
    entries = [
        TimelineEntry(incident.breaching_since, "Breach began", f"{condition} started to hold", "breach"),
        TimelineEntry(
            incident.fired_at,
            "Fired",
            f"value {_value(incident.value)} after {held} of {condition}",
            "fired",
        ),
    ]
    for delivery in incident.deliveries:
        channel = channel_names.get(delivery.channel_id, "a deleted channel")
        attempts = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
        detail = f"{delivery.status.value} after {attempts}" + (
            f": {delivery.last_error}" if delivery.last_error else ""
        )
        entries.append(
            TimelineEntry(
                delivery.delivered_at or delivery.created_at,
                f"Told {channel} ({delivery.event.value})",
                detail,
                "delivery",
            )
        )
    if incident.acknowledged_at is not None:
        entries.append(
            TimelineEntry(
                incident.acknowledged_at,
                f"Acknowledged by {incident.acknowledged_by}",
                incident.note or "",
                "acknowledged",
            )
        )
    if incident.resolved_at is not None:
        entries.append(
            TimelineEntry(
                incident.resolved_at, "Resolved", f"value {_value(incident.resolved_value)}", "resolved"
            )
        )
    return sorted(entries, key=lambda entry: entry.at)


def _value(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"


def render_incident(
    request: Request, actor: Actor, incident_id: str, *, error: FormError | None = None, note: str = ""
) -> HTMLResponse:
    with get_db(request).unit_of_work() as session:
        incident = alert_incidents.get_incident(session, actor, incident_id)
        detail = alert_incidents.incident_detail(session, incident)
        channels = alert_channels.list_channels(
            session, actor, PageParams(limit=MAX_LIMIT), project=detail.project_id
        ).items
        names = {channel.id: channel.name for channel in channels}
    return render(
        request,
        "monitoring/incident.html",
        {
            "section": "alerts",
            "incident": detail,
            "timeline": timeline(detail, names),
            "can_ack": actor.may(Permission.alerts_write) and detail.acknowledged_at is None,
            "note": note,
            "notice": notice(request),
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/alerts/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, actor: AlertsPage, incident_id: IncidentId) -> HTMLResponse:
    return render_incident(request, actor, incident_id)


@router.post("/alerts/incidents/{incident_id}/ack")
def acknowledge(request: Request, actor: AlertsForm, form: FormDep, incident_id: IncidentId) -> Response:
    note = field(form, "note", limit=5000)
    try:
        data = IncidentAck(note=note)
        with get_db(request).unit_of_work() as session:
            alert_incidents.acknowledge_incident(session, actor, incident_id, data.note)
    except (KilnError, ValidationError) as exc:
        return render_incident(request, actor, incident_id, error=form_error(exc), note=note)
    return redirect_with_notice(f"/alerts/incidents/{incident_id}", "incident_acknowledged")
