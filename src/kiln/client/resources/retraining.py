"""``client.monitoring.retraining``: triggers that start a pipeline run when a deployment drifts or
one of its alert rules fires.

client.monitoring.retraining.create("fraud", "train_fraud", parameters={"rows": 5000}, on=["drift"])
for trigger in client.monitoring.retraining.list(deployment="fraud"): print(trigger.last_outcome)
client.monitoring.retraining.delete(trigger.id)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.monitoring.retraining_schemas import (
    DEFAULT_COOLDOWN_SECONDS,
    RetrainingTriggerCreate,
    RetrainingTriggerRead,
)

PATH = "/monitoring/retraining"


class RetrainingResource(Resource):
    def create(
        self,
        deployment: str,
        pipeline: str,
        *,
        parameters: dict[str, Any] | None = None,
        on: Sequence[str] = ("drift", "alert"),
        alert_rules: Sequence[str] = (),
        cooldown: str | int = DEFAULT_COOLDOWN_SECONDS,
        enabled: bool = True,
    ) -> RetrainingTriggerRead:
        """Run ``pipeline`` (in the deployment's project) when ``deployment`` drifts (``on`` has
        ``"drift"``) or one of its alert rules fires (``"alert"``; only ``alert_rules``, when named),
        at most once per ``cooldown`` (``"6h"``, seconds) and never while its last run is unfinished.
        The parameters are checked against the pipeline's latest version now."""
        body = RetrainingTriggerCreate.model_validate(
            {
                "deployment": deployment,
                "pipeline": pipeline,
                "parameters": dict(parameters or {}),
                "on": list(on),
                "alert_rules": list(alert_rules),
                "cooldown": cooldown,
                "enabled": enabled,
            }
        )
        answer = self.transport.request("POST", PATH, json_body=body.model_dump(mode="json"))
        return RetrainingTriggerRead.model_validate(answer)

    def list(
        self, *, deployment: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[RetrainingTriggerRead]:
        """Triggers of your projects, with the run each last started or why it started none."""
        params = {"deployment": deployment, "limit": limit, "cursor": cursor}
        return fetch_page(self.transport, PATH, RetrainingTriggerRead, params)

    def delete(self, trigger_id: str) -> None:
        self.transport.request("DELETE", f"{PATH}/{segment(trigger_id)}")
