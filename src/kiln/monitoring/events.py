"""What monitoring announces, after commit, to whoever subscribed (pipelines: retraining triggers).

Frozen dataclasses of ids, names and figures (never ORM rows). Published with
``kiln.core.events.publish(session, event)``; subscribe with ``events.subscribe(DriftDetected, handler)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiln.core.events import Event


@dataclass(frozen=True, slots=True)
class DriftDetected(Event):
    """A stored drift report recommends retraining (its inputs' drifted share reached the threshold,
    or the model's predictions drifted). Announced once per window: recomputing a window that was
    already drifted announces nothing again."""

    project_id: str
    deployment: str
    report_id: str
    model_version_id: str | None
    model_version_number: int | None
    window_seconds: int
    start: datetime
    end: datetime
    drifted_features: tuple[str, ...]
    drifted_share: float
    prediction_drift: bool | None
    summary: str


@dataclass(frozen=True, slots=True)
class AlertFired(Event):
    """An alert rule went firing (its breach held for the whole duration) and opened an incident.
    Announced once per incident, after the evaluation that opened it commits."""

    project_id: str
    deployment: str
    rule_id: str
    rule_name: str
    incident_id: str
    metric: str
    value: float | None
