"""``kiln.alerts``: the one-line forms over the default client (``kiln.set_tracking_uri``/``KILN_URL``).

kiln.alerts.create("fraud", "accuracy", "<", 0.85, duration="1h", channels=["oncall"])
kiln.alerts.list(state="firing")
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.client.api import Client, default_client
from kiln.client.pages import ResultPage
from kiln.monitoring.alert_schemas import AlertRuleRead, IncidentRead


class AlertShortcuts:
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
        client: Client | None = None,
    ) -> AlertRuleRead:
        """A rule such as ``accuracy < 0.85 for 1h`` on a deployment, told to the channels named."""
        return (client or default_client()).alerts.create(
            deployment,
            metric,
            comparison,
            threshold,
            duration=duration,
            window=window,
            version=version,
            channels=channels,
            name=name,
        )

    def list(
        self, *, state: str | None = None, deployment: str | None = None, client: Client | None = None
    ) -> ResultPage[IncidentRead]:
        """The incident log, newest first."""
        return (client or default_client()).alerts.list(state=state, deployment=deployment)

    def ack(self, incident_id: str, note: str = "", *, client: Client | None = None) -> IncidentRead:
        return (client or default_client()).alerts.ack(incident_id, note)


alerts = AlertShortcuts()
