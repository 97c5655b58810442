"""The incident log: what fired when, with which value, when it resolved, and who acknowledged it.

Acknowledging is a person's decision (audited, with their note); it does not resolve an incident,
which only the rule's metric does.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import get_in_project, scoped
from kiln.core.actor import Actor
from kiln.core.errors import InvalidState
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.monitoring.alert_channels import get_channel
from kiln.monitoring.alert_delivery import queue_delivery
from kiln.monitoring.alert_models import AlertDelivery, AlertDeliveryAttempt, AlertIncident
from kiln.monitoring.alert_schemas import (
    DeliveryAttemptRead,
    DeliveryEvent,
    DeliveryRead,
    IncidentDetail,
    IncidentRead,
    IncidentState,
)


def list_incidents(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    state: IncidentState | None = None,
    deployment: str | None = None,
) -> Page[AlertIncident]:
    """Incidents of the caller's projects, newest first."""
    statement = scoped(session, actor, select(AlertIncident), AlertIncident.project_id)
    if state is not None:
        statement = statement.where(AlertIncident.state == state.value)
    if deployment is not None:
        statement = statement.where(AlertIncident.deployment == deployment)
    return paginate(session, statement.order_by(AlertIncident.fired_at.desc(), AlertIncident.id.desc()), page)


def get_incident(
    session: Session, actor: Actor, incident_id: str, permission: Permission = Permission.alerts_read
) -> AlertIncident:
    return get_in_project(
        session, actor, AlertIncident, incident_id, permission, hide_as=f"incident {incident_id!r}"
    )


def incident_detail(session: Session, incident: AlertIncident) -> IncidentDetail:
    deliveries = list(
        session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.incident_id == incident.id)
            .order_by(AlertDelivery.created_at, AlertDelivery.id)
        )
    )
    base = IncidentRead.model_validate(incident).model_dump()
    return IncidentDetail(**base, deliveries=delivery_reads(session, deliveries))


def delivery_reads(session: Session, deliveries: list[AlertDelivery]) -> list[DeliveryRead]:
    attempts: dict[str, list[DeliveryAttemptRead]] = {}
    if deliveries:
        rows = session.scalars(
            select(AlertDeliveryAttempt)
            .where(AlertDeliveryAttempt.delivery_id.in_([delivery.id for delivery in deliveries]))
            .order_by(AlertDeliveryAttempt.number)
        )
        for row in rows:
            attempts.setdefault(row.delivery_id, []).append(DeliveryAttemptRead.model_validate(row))
    return [
        DeliveryRead.model_validate(delivery).model_copy(
            update={"attempt_history": attempts.get(delivery.id, [])}
        )
        for delivery in deliveries
    ]


def acknowledge_incident(session: Session, actor: Actor, incident_id: str, note: str) -> AlertIncident:
    """Mark an incident acknowledged by the caller, with a note (once: a second ack is a 409)."""
    incident = get_incident(session, actor, incident_id, Permission.alerts_write)
    changed = cast(
        CursorResult[Any],
        session.execute(
            update(AlertIncident)
            .where(AlertIncident.id == incident.id, AlertIncident.acknowledged_at.is_(None))
            .values(
                acknowledged_at=utcnow(),
                acknowledged_by=actor.label_within(256),
                acknowledged_by_user_id=actor.user_id,
                note=note or None,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if changed.rowcount != 1:
        raise InvalidState(f"incident {incident_id!r} was already acknowledged by {incident.acknowledged_by}")
    session.expire(incident)
    audit.record(
        session,
        actor,
        "alert_incident.acknowledged",
        "alert_incident",
        incident.id,
        {"rule": incident.rule_name, "deployment": incident.deployment, "note": note},
    )
    return incident


def queue_test_delivery(session: Session, actor: Actor, channel_id: str) -> AlertDelivery:
    """Queue a test message to a channel (delivered by a worker like any other)."""
    channel = get_channel(session, actor, channel_id, Permission.alerts_write)
    return queue_delivery(session, channel, DeliveryEvent.test)


def get_delivery(session: Session, actor: Actor, delivery_id: str) -> DeliveryRead:
    delivery = get_in_project(
        session,
        actor,
        AlertDelivery,
        delivery_id,
        Permission.alerts_read,
        hide_as=f"delivery {delivery_id!r}",
    )
    return delivery_reads(session, [delivery])[0]
