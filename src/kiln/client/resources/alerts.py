"""``client.alerts``: alert rules, the incident log (and acknowledging), channels and test deliveries.

client.alerts.create("fraud", "accuracy", "<", 0.85, duration="1h", channels=["oncall"])
for incident in client.alerts.list(state="firing"): ...
client.alerts.ack(incident.id, note="rolling back")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.monitoring.alert_schemas import (
    AlertChannelCreate,
    AlertChannelRead,
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    DeliveryRead,
    IncidentAck,
    IncidentDetail,
    IncidentRead,
)


class AlertsResource(Resource):
    def create(
        self,
        deployment: str,
        metric: str,
        comparison: str,
        threshold: float,
        *,
        duration: str | int = 0,
        window: str | None = None,
        version: int | None = None,
        channels: Sequence[str] = (),
        name: str | None = None,
    ) -> AlertRuleRead:
        """A rule: ``create("fraud", "accuracy", "<", 0.85, duration="1h", channels=["oncall"])``."""
        body = AlertRuleCreate.model_validate(
            {
                "deployment": deployment,
                "metric": metric,
                "comparison": comparison,
                "threshold": threshold,
                "duration": duration,
                "window": window,
                "version": version,
                "channels": list(channels),
                "name": name,
            }
        )
        answer = self.transport.request(
            "POST", "/alerts/rules", json_body=body.model_dump(mode="json", exclude_none=True)
        )
        return AlertRuleRead.model_validate(answer)

    def rules(
        self,
        *,
        deployment: str | None = None,
        state: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[AlertRuleRead]:
        params = {"deployment": deployment, "state": state, "limit": limit, "cursor": cursor}
        return fetch_page(self.transport, "/alerts/rules", AlertRuleRead, params)

    def update_rule(self, rule_id: str, **changes: Any) -> AlertRuleRead:
        """Change a rule (threshold, comparison, duration, window, channels, enabled)."""
        body = AlertRuleUpdate.model_validate(changes).model_dump(mode="json", exclude_unset=True)
        answer = self.transport.request("PATCH", f"/alerts/rules/{segment(rule_id)}", json_body=body)
        return AlertRuleRead.model_validate(answer)

    def delete_rule(self, rule_id: str) -> None:
        self.transport.request("DELETE", f"/alerts/rules/{segment(rule_id)}")

    def list(
        self,
        *,
        state: str | None = None,
        deployment: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[IncidentRead]:
        """The incident log, newest first; ``state="firing"`` for the open incidents."""
        params = {"state": state, "deployment": deployment, "limit": limit, "cursor": cursor}
        return fetch_page(self.transport, "/alerts/incidents", IncidentRead, params)

    def get(self, incident_id: str) -> IncidentDetail:
        """One incident with every delivery to its channels and each attempt."""
        return IncidentDetail.model_validate(
            self.transport.request("GET", f"/alerts/incidents/{segment(incident_id)}")
        )

    def ack(self, incident_id: str, note: str = "") -> IncidentRead:
        """Acknowledge an incident with a note (it resolves when its metric recovers, not by this)."""
        body = IncidentAck(note=note).model_dump(mode="json")
        answer = self.transport.request(
            "POST", f"/alerts/incidents/{segment(incident_id)}/ack", json_body=body
        )
        return IncidentRead.model_validate(answer)

    def create_channel(
        self,
        name: str,
        kind: str,
        *,
        url: str | None = None,
        secret: str | None = None,
        to: Sequence[str] = (),
        project: str | None = None,
    ) -> AlertChannelRead:
        """An ``email`` (``to``), ``slack`` (``url``), ``webhook`` (``url``, ``secret``) or ``in_app``
        channel."""
        body = AlertChannelCreate.model_validate(
            {"name": name, "kind": kind, "url": url, "secret": secret, "to": list(to), "project": project}
        )
        answer = self.transport.request(
            "POST", "/alerts/channels", json_body=body.model_dump(mode="json", exclude_none=True)
        )
        return AlertChannelRead.model_validate(answer)

    def channels(
        self, *, project: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[AlertChannelRead]:
        return fetch_page(
            self.transport,
            "/alerts/channels",
            AlertChannelRead,
            {"project": project, "limit": limit, "cursor": cursor},
        )

    def test_channel(self, channel_id: str) -> DeliveryRead:
        """Queue a test message to a channel; follow it with ``delivery(id)``."""
        return DeliveryRead.model_validate(
            self.transport.request("POST", f"/alerts/channels/{segment(channel_id)}/test")
        )

    def delivery(self, delivery_id: str) -> DeliveryRead:
        return DeliveryRead.model_validate(
            self.transport.request("GET", f"/alerts/deliveries/{segment(delivery_id)}")
        )
