"""Alerts REST API: /api/v1/alerts (rules, incidents and their acknowledgement, channels, tests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.monitoring import alert_channels, alert_incidents, alert_rules
from kiln.monitoring.alert_schemas import (
    AlertChannelCreate,
    AlertChannelRead,
    AlertChannelUpdate,
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    DeliveryRead,
    IncidentAck,
    IncidentDetail,
    IncidentRead,
    IncidentState,
    RuleFilter,
)

router = APIRouter(
    prefix="/api/v1/alerts", tags=["alerts"], responses=error_responses(400, 401, 403, 404, 422, 429)
)

AlertsRead = Annotated[Actor, Depends(require(Permission.alerts_read))]
AlertsWrite = Annotated[Actor, Depends(require(Permission.alerts_write))]
Id = Annotated[str, Path(max_length=36)]


# -- rules ----------------------------------------------------------------------------------------


@router.get("/rules", response_model=Page[AlertRuleRead])
def list_rules(
    actor: AlertsRead, session: SessionDep, filters: Annotated[RuleFilter, Query()], page: PageQuery
) -> Page[AlertRuleRead]:
    """Rules of the caller's projects with their state (ok, pending, firing); filter by deployment."""
    found = alert_rules.list_rules(session, actor, filters, page)
    return found.with_items([AlertRuleRead.model_validate(rule) for rule in found.items])


@router.post("/rules", response_model=AlertRuleRead, status_code=201, responses=error_responses(409))
def create_rule(actor: AlertsWrite, session: SessionDep, data: AlertRuleCreate) -> AlertRuleRead:
    """A rule such as ``accuracy < 0.85 for 1h`` on a deployment, told to the channels named."""
    return AlertRuleRead.model_validate(alert_rules.create_rule(session, actor, data))


@router.post("/rules/builtin", response_model=list[AlertRuleRead])
def add_builtin_rules(
    actor: AlertsWrite, session: SessionDep, deployment: Annotated[str, Query(min_length=1, max_length=128)]
) -> list[AlertRuleRead]:
    """The deployment's built-in rules (error rate, latency p99, drift), created now where missing."""
    return [
        AlertRuleRead.model_validate(rule)
        for rule in alert_rules.add_builtin_rules(session, actor, deployment)
    ]


@router.get("/rules/{rule_id}", response_model=AlertRuleRead)
def get_rule(actor: AlertsRead, session: SessionDep, rule_id: Id) -> AlertRuleRead:
    return AlertRuleRead.model_validate(alert_rules.get_rule(session, actor, rule_id))


@router.patch("/rules/{rule_id}", response_model=AlertRuleRead, responses=error_responses(409))
def update_rule(actor: AlertsWrite, session: SessionDep, rule_id: Id, data: AlertRuleUpdate) -> AlertRuleRead:
    return AlertRuleRead.model_validate(alert_rules.update_rule(session, actor, rule_id, data))


@router.delete("/rules/{rule_id}", status_code=204, responses=error_responses(409))
def delete_rule(actor: AlertsWrite, session: SessionDep, rule_id: Id) -> Response:
    alert_rules.delete_rule(session, actor, rule_id)
    return Response(status_code=204)


# -- incidents ------------------------------------------------------------------------------------


@router.get("/incidents", response_model=Page[IncidentRead])
def list_incidents(
    actor: AlertsRead,
    session: SessionDep,
    page: PageQuery,
    state: IncidentState | None = None,
    deployment: Annotated[str | None, Query(max_length=128)] = None,
) -> Page[IncidentRead]:
    """The incident log of the caller's projects, newest first; ``state=firing`` for the open ones."""
    found = alert_incidents.list_incidents(session, actor, page, state=state, deployment=deployment)
    return found.with_items([IncidentRead.model_validate(incident) for incident in found.items])


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def get_incident(actor: AlertsRead, session: SessionDep, incident_id: Id) -> IncidentDetail:
    """One incident with every delivery to its channels and each attempt."""
    incident = alert_incidents.get_incident(session, actor, incident_id)
    return alert_incidents.incident_detail(session, incident)


@router.post("/incidents/{incident_id}/ack", response_model=IncidentRead, responses=error_responses(409))
def acknowledge(actor: AlertsWrite, session: SessionDep, incident_id: Id, data: IncidentAck) -> IncidentRead:
    """Acknowledge an incident with a note (audited); it stays open until its metric recovers."""
    return IncidentRead.model_validate(
        alert_incidents.acknowledge_incident(session, actor, incident_id, data.note)
    )


# -- channels -------------------------------------------------------------------------------------


@router.get("/channels", response_model=Page[AlertChannelRead])
def list_channels(
    actor: AlertsRead,
    session: SessionDep,
    page: PageQuery,
    project: Annotated[str | None, Query(max_length=128)] = None,
) -> Page[AlertChannelRead]:
    """Channels of the caller's projects (secrets are never shown)."""
    found = alert_channels.list_channels(session, actor, page, project=project)
    return found.with_items([alert_channels.channel_read(channel) for channel in found.items])


@router.post("/channels", response_model=AlertChannelRead, status_code=201, responses=error_responses(409))
def create_channel(actor: AlertsWrite, session: SessionDep, data: AlertChannelCreate) -> AlertChannelRead:
    """An email, Slack, signed webhook or in-app channel; webhook URLs are checked (no private targets)."""
    return alert_channels.channel_read(alert_channels.create_channel(session, actor, data))


@router.get("/channels/{channel_id}", response_model=AlertChannelRead)
def get_channel(actor: AlertsRead, session: SessionDep, channel_id: Id) -> AlertChannelRead:
    return alert_channels.channel_read(alert_channels.get_channel(session, actor, channel_id))


@router.patch("/channels/{channel_id}", response_model=AlertChannelRead, responses=error_responses(409))
def update_channel(
    actor: AlertsWrite, session: SessionDep, channel_id: Id, data: AlertChannelUpdate
) -> AlertChannelRead:
    return alert_channels.channel_read(alert_channels.update_channel(session, actor, channel_id, data))


@router.delete("/channels/{channel_id}", status_code=204)
def delete_channel(actor: AlertsWrite, session: SessionDep, channel_id: Id) -> Response:
    alert_channels.delete_channel(session, actor, channel_id)
    return Response(status_code=204)


@router.post("/channels/{channel_id}/test", response_model=DeliveryRead, status_code=202)
def test_channel(actor: AlertsWrite, session: SessionDep, channel_id: Id) -> DeliveryRead:
    """Queue a test message to the channel; follow it at ``GET /api/v1/alerts/deliveries/{id}``."""
    delivery = alert_incidents.queue_test_delivery(session, actor, channel_id)
    return alert_incidents.delivery_reads(session, [delivery])[0]


@router.get("/deliveries/{delivery_id}", response_model=DeliveryRead)
def get_delivery(actor: AlertsRead, session: SessionDep, delivery_id: Id) -> DeliveryRead:
    """One delivery with every attempt (status, response code, error)."""
    return alert_incidents.get_delivery(session, actor, delivery_id)
